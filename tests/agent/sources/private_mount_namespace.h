// RunInPrivateMountNamespace: runs `body` in a forked child that has its own mount namespace
// (as root, or through a user namespace where unprivileged ones are allowed), so a test can
// mount a tmpfs and watch the kernel report the change without touching the host's mounts.
// Returns the child's exit code: `body`'s result, or kNoMountNamespace when the namespace
// cannot be made here (the caller skips). Test-only.
#ifndef ACCORD_TESTS_AGENT_SOURCES_PRIVATE_MOUNT_NAMESPACE_H_
#define ACCORD_TESTS_AGENT_SOURCES_PRIVATE_MOUNT_NAMESPACE_H_

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>

namespace accord::agent::testing {

inline constexpr int kNoMountNamespace = 77;

inline int RunInPrivateMountNamespace(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid < 0) return kNoMountNamespace;
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      _exit(kNoMountNamespace);
    }
    // Mounts made here must not propagate back to the host's namespace.
    if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(kNoMountNamespace);
    _exit(body());
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Mounts a small tmpfs on `dir` (in the private namespace). True on success.
inline bool MountTmpfs(const char* dir) {
  return mount("accord-test", dir, "tmpfs", 0, "size=64k") == 0;
}

}  // namespace accord::agent::testing

#endif  // ACCORD_TESTS_AGENT_SOURCES_PRIVATE_MOUNT_NAMESPACE_H_
