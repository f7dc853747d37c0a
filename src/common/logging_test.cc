#include "common/logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

namespace tessera::logging {
namespace {

// Runs `body` with stderr going to a temporary file and returns what was written.
template <typename Body>
std::string CaptureStderr(Body body) {
  char path[] = "/tmp/tessera_logging_test_XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  body();
  Flush();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  EXPECT_EQ(start, text.size()) << "the last line has no newline";
  return lines;
}

// InfoLine writes the same line TESSERA_LOG_INFO would, in order with the others, and
// nothing when info is off.
TEST(LoggingTest, InfoLineMatchesTheFormattedLines) {
  Init("info");
  const std::string text = CaptureStderr([] {
    TESSERA_LOG_INFO("formatted {}", 1);
    InfoLine("built by hand");
    TESSERA_LOG_WARN("a warning {}", 2);
    ASSERT_TRUE(SetLevel("warn").ok());
    InfoLine("not written");
    ASSERT_TRUE(SetLevel("info").ok());
  });
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 3u) << text;
  const std::regex shape(R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (info|warning) \[(\d+)\] (.*))");
  std::smatch m[3];
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(std::regex_match(lines[i], m[i], shape)) << lines[i];
  EXPECT_EQ(m[0][4], "formatted 1");
  EXPECT_EQ(m[1][2], "info");
  EXPECT_EQ(m[1][3], m[0][3]);  // same thread id
  EXPECT_EQ(m[1][4], "built by hand");
  EXPECT_EQ(m[2][4], "a warning 2");
  EXPECT_LE(m[0][1].str(), m[1][1].str());
  EXPECT_LE(m[1][1].str(), m[2][1].str());
}

}  // namespace
}  // namespace tessera::logging
