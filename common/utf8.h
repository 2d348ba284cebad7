// UTF-8 validity and repair for text that goes into protobuf `string` fields.
//
// proto3 `string` fields must hold valid UTF-8: protobuf's parser refuses a whole message with
// one invalid byte anywhere in it (the sender's serializer only logs). Linux gives the agent
// plenty of text that is not UTF-8: mount points and other paths are bytes, interface names
// and the hostname too, and configuration may be written in Latin-1. Such text must be made
// valid before it reaches a message, or the collector cannot read that message at all.
//
// Pure functions; thread-safe.
#ifndef ACCORD_COMMON_UTF8_H_
#define ACCORD_COMMON_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace accord {

// True if `s` is well-formed UTF-8 as RFC 3629 (and protobuf) define it: no overlong forms,
// no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
bool IsValidUtf8(absl::string_view s);

// `s` itself if it is valid UTF-8. Otherwise a copy in which each byte that is not part of a
// well-formed sequence is written as the four ASCII characters `\xNN` (lowercase hex), e.g.
// "caf\xe9" (Latin-1) becomes "caf\\xe9"; every well-formed sequence is kept as it is.
//
// Why escape rather than replace with U+FFFD: the text becomes a label value, i.e. part of a
// series' identity. U+FFFD would merge two mount points or interfaces that differ only in
// their invalid bytes into one series; the escape keeps them apart and still tells an
// operator which bytes the name holds. Backslashes are not escaped, so text that is already
// valid never changes (its series keep their identity); the price is that a valid name
// literally containing `\xe9` reads the same as one holding the byte 0xE9.
std::string ToValidUtf8(absl::string_view s);

}  // namespace accord

#endif  // ACCORD_COMMON_UTF8_H_
