"""Bad flags and config files exit with status 2 and name the field (and file:line:column)."""
import json
import os
import re
import subprocess
import unittest

from accord_harness import AGENT, COLLECTOR, make_tmp


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


class ConfigErrorsTest(unittest.TestCase):
    def test_agent_interval_below_minimum(self):
        code, err = run([AGENT, "--sample.interval=500ms"])
        self.assertEqual(code, 2)
        self.assertIn("flag --sample.interval: duration 500ms is below the minimum 1s", err)

    def test_agent_unknown_flag_and_bad_label_reported_together(self):
        code, err = run([AGENT, "--colector.address=x", "--label=nope"])
        self.assertEqual(code, 2)
        self.assertIn("flag --colector.address: unknown flag", err)
        self.assertIn("flag --label: invalid label \"nope\"", err)

    def test_agent_yaml_errors_have_file_line_column(self):
        tmp = make_tmp()
        path = os.path.join(tmp, "agent.yaml")
        with open(path, "w") as f:
            f.write("collector:\n  address: 127.0.0.1:1\nsample:\n  interval: often\n"
                    "labels:\n  role: db\n")
        code, err = run([AGENT, "--config.file=" + path])
        self.assertEqual(code, 2)
        self.assertIn(path + ":4:13: field sample.interval: invalid duration \"often\"", err)
        self.assertIn(path + ":5:1: field labels: unknown key", err)

    def test_collector_bad_flag(self):
        code, err = run([COLLECTOR, "--grpc.max-message-bytes=huge"])
        self.assertEqual(code, 2)
        self.assertIn("flag --grpc.max-message-bytes: invalid size", err)

    def test_collector_port_in_use_fails_cleanly(self):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            tmp = make_tmp()
            code, err = run([COLLECTOR, "--grpc.listen-address=127.0.0.1:0",
                             "--web.listen-address=127.0.0.1:%d" % port,
                             "--storage.path=" + tmp])
        self.assertEqual(code, 1)
        self.assertIn("cannot listen for HTTP", err)

    def test_check_config_reports_every_catalogue_error_with_position(self):
        tmp = make_tmp()
        path = os.path.join(tmp, "collector.yaml")
        with open(path, "w") as f:
            f.write("grpc:\n  listen-address: 127.0.0.1:7470\n"
                    "services:\n"
                    "  - id: shop\n"
                    "    components: {hosts: [a, b]}\n"
                    "    available_when: 3 of 2\n"
                    "    sla:\n"
                    "      target: 120\n"
                    "      time_zone: Mars/Olympus\n"
                    "      colour: blue\n")
        p = subprocess.run([COLLECTOR, "--check-config", path, "--storage.path=" + tmp],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        out = p.stdout
        self.assertRegex(out, re.escape(path) + r":6:\d+: error: field services\[0\]\.available_when")
        self.assertRegex(out, re.escape(path) + r":8:\d+: error: field services\[0\]\.sla\.target")
        self.assertRegex(out, re.escape(path) + r":9:\d+: error: .*Mars/Olympus")
        self.assertRegex(out, re.escape(path) + r":10:\d+: error: field services\[0\]\.sla\.colour")

    def test_check_config_accepts_the_shipped_example(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "examples",
                               "catalogue.yaml")
        p = subprocess.run([COLLECTOR, "--check-config", example, "--storage.path=" + make_tmp()],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("OK", p.stdout)

    def test_every_collector_flag_may_stand_in_the_config_file(self):
        # The catalogue shares the file with the flags: each flag's section must be one the
        # catalogue loader skips, and each flag must take its documented default there.
        usage = subprocess.run([COLLECTOR, "--help"], capture_output=True, text=True, timeout=30)
        text = usage.stdout + usage.stderr
        flags = re.findall(r"^  --([a-z0-9-]+\.[a-z0-9.-]+)=VALUE\n +(.*)$", text, re.M)
        sections = {}
        for name, help_text in flags:
            if name == "config.file":
                continue
            default = re.search(r"\(default ([^;)]+)", help_text)
            self.assertIsNotNone(default, "--%s names no default in --help" % name)
            section, key = name.split(".", 1)
            sections.setdefault(section, []).append((key, default.group(1)))
        self.assertIn("memory", sections)
        tmp = make_tmp()
        path = os.path.join(tmp, "collector.yaml")
        with open(path, "w") as f:
            for section, keys in sorted(sections.items()):
                f.write("%s:\n" % section)
                for key, value in keys:
                    f.write("  %s: %s\n" % (key, json.dumps(value)))
        p = subprocess.run([COLLECTOR, "--check-config", path, "--storage.path=" + tmp],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, open(path).read() + p.stdout + p.stderr)
        self.assertIn("OK", p.stdout)

    def test_collector_ack_interval_zero_acknowledges_every_batch(self):
        # 0 is documented (acknowledge every batch as soon as it is durable); at most 1m.
        tmp = make_tmp()
        path = os.path.join(tmp, "collector.yaml")
        with open(path, "w") as f:
            f.write("ingest:\n  ack-interval: 0s\n")
        p = subprocess.run([COLLECTOR, "--ingest.ack-interval=0", "--check-config", path,
                            "--storage.path=" + tmp], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        code, err = run([COLLECTOR, "--ingest.ack-interval=2m", "--storage.path=" + tmp,
                         "--grpc.listen-address=127.0.0.1:0", "--web.listen-address=127.0.0.1:0"])
        self.assertNotEqual(code, 0)
        self.assertIn("--ingest.ack-interval 2m: must be between 0 and 1m", err)

    def test_collector_refuses_to_start_with_a_bad_catalogue(self):
        tmp = make_tmp()
        path = os.path.join(tmp, "collector.yaml")
        with open(path, "w") as f:
            f.write("services:\n  - id: x\n    components: {hosts: [a]}\n    sla: {target: 0}\n")
        code, err = run([COLLECTOR, "--config.file=" + path, "--storage.path=" + tmp,
                         "--grpc.listen-address=127.0.0.1:0", "--web.listen-address=127.0.0.1:0"])
        self.assertNotEqual(code, 0)
        self.assertIn("sla.target", err)

    def test_version(self):
        out = subprocess.run([AGENT, "--version"], capture_output=True, text=True).stdout
        self.assertRegex(out, r"accord-agent \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
