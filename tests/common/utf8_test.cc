#include "common/utf8.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace accord {
namespace {

using namespace std::string_literals;

TEST(Utf8Test, WellFormedTextIsValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("/srv/backup data"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));       // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8("nul\0inside"s));      // NUL is valid UTF-8
}

TEST(Utf8Test, WhatProtobufRefusesIsInvalid) {
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));           // Latin-1 é
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // cut short
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8Test, ValidTextIsKeptAsItIs) {
  for (absl::string_view s : {"", "eth0", "/srv/backup data", "caf\xc3\xa9", "a\\xe9"}) {
    EXPECT_EQ(ToValidUtf8(s), s);
  }
}

TEST(Utf8Test, EachInvalidByteIsEscapedAndTheRestKept) {
  EXPECT_EQ(ToValidUtf8("/mnt/caf\xe9"), "/mnt/caf\\xe9");
  EXPECT_EQ(ToValidUtf8("\xe9t\xe9"), "\\xe9t\\xe9");
  // A sequence cut short: each of its bytes; the valid é after it is kept.
  EXPECT_EQ(ToValidUtf8("\xe2\x82x\xc3\xa9"), "\\xe2\\x82x\xc3\xa9");
  EXPECT_EQ(ToValidUtf8("\xc0\xaf"), "\\xc0\\xaf");           // overlong
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(ToValidUtf8("\xff\xfe"), "\\xff\\xfe");
}

TEST(Utf8Test, NamesThatDifferInInvalidBytesStayDifferent) {
  EXPECT_NE(ToValidUtf8("/mnt/caf\xe9"), ToValidUtf8("/mnt/caf\xe8"));
}

TEST(Utf8Test, AnyBytesBecomeValid) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 12);
  for (int i = 0; i < 20000; ++i) {
    std::string s(length(rng), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    const std::string out = ToValidUtf8(s);
    ASSERT_TRUE(IsValidUtf8(out)) << i;
    if (IsValidUtf8(s)) {
      ASSERT_EQ(out, s) << i;
    }
  }
}

}  // namespace
}  // namespace accord
