// Golden files (SimGrid .tesh habit): compare a run's text with a checked-in
// file under tests/golden/; with SIREN_UPDATE_GOLDEN=1 the file is rewritten
// first (after an intended change; review the diff).
#ifndef SIREN_TESTS_CPP_GOLDEN_FILE_H_
#define SIREN_TESTS_CPP_GOLDEN_FILE_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace siren::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(SIREN_SOURCE_DIR) + "/tests/golden/" + name + ".trace";
}

// Fails with the first differing line when `actual` is not the file's text.
inline void ExpectMatchesGolden(const std::string& name,
                                const std::string& actual) {
  const std::string path = GoldenPath(name);
  if (std::getenv("SIREN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
  }
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << "missing " << path
                           << " (run with SIREN_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << file.rdbuf();
  if (expected.str() == actual) return;
  std::istringstream a(expected.str()), b(actual);
  std::string line_a, line_b;
  int line = 1;
  while (std::getline(a, line_a) && std::getline(b, line_b) &&
         line_a == line_b) {
    ++line;
  }
  FAIL() << path << " differs at line " << line << "\nexpected: " << line_a
         << "\nactual:   " << line_b;
}

}  // namespace siren::testing

#endif  // SIREN_TESTS_CPP_GOLDEN_FILE_H_
