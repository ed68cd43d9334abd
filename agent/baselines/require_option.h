// The baselines' option check: a search option out of its range is refused
// with std::invalid_argument "<name>: got <value>, expected <expected>".
#ifndef SIREN_AGENT_BASELINES_REQUIRE_OPTION_H_
#define SIREN_AGENT_BASELINES_REQUIRE_OPTION_H_

#include <sstream>
#include <stdexcept>
#include <string>

namespace siren::baselines {

// Throws the message above unless `ok`.
inline void RequireOption(bool ok, const std::string& name, double value,
                          const std::string& expected) {
  if (ok) return;
  std::ostringstream message;
  message << name << ": got " << value << ", expected " << expected;
  throw std::invalid_argument(message.str());
}

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_REQUIRE_OPTION_H_
