#include "env/action_codec.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "env/env_spec.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"

namespace siren::env {
namespace {

[[noreturn]] void BadValue(int index, double value,
                           const std::string& expected) {
  std::ostringstream message;
  message << "action[" << index << "]: got " << value << ", expected "
          << expected;
  throw sim::InvalidAction(message.str());
}

}  // namespace

const char* ActionEncodingName(ActionEncoding encoding) {
  return encoding == ActionEncoding::kBox ? "box" : "multi_discrete";
}

ActionEncoding ParseActionEncoding(const std::string& name) {
  if (name == "box") return ActionEncoding::kBox;
  if (name == "multi_discrete") return ActionEncoding::kMultiDiscrete;
  throw std::invalid_argument("action_encoding: got '" + name +
                              "', expected \"box\" or \"multi_discrete\"");
}

ActionCodec::ActionCodec(const sim::Scenario& scenario, ActionEncoding encoding)
    : ActionCodec(scenario, EnvSpec::FromScenario(scenario),
                  *sim::MakePlatform(scenario), encoding) {}

ActionCodec::ActionCodec(const sim::Scenario& scenario, const EnvSpec& env,
                         const sim::Platform& platform, ActionEncoding encoding)
    : encoding_(encoding),
      min_functions_(env.min_functions),
      max_functions_(env.max_functions),
      log_scale_(env.function_scale == FunctionScale::kLog),
      function_bins_(
          std::min(env.function_bins, max_functions_ - min_functions_ + 1)),
      min_feasible_memory_mb_(sim::MinFeasibleMemoryMb(platform, scenario)),
      grid_(platform.MemoryGrid()) {
  memory_bins_ = std::min<int>(env.memory_bins, grid_.size());
  function_bins_ = std::max(function_bins_, 1);
  memory_bins_ = std::max(memory_bins_, 1);
}

int ActionCodec::FunctionsAt(double x) const {
  double n;
  if (log_scale_) {
    const double lo = std::log(static_cast<double>(min_functions_));
    const double hi = std::log(static_cast<double>(max_functions_));
    n = std::exp(lo + x * (hi - lo));
  } else {
    n = min_functions_ + x * (max_functions_ - min_functions_);
  }
  return std::clamp(static_cast<int>(std::lround(n)), min_functions_,
                    max_functions_);
}

double ActionCodec::UnitOfFunctions(int functions) const {
  if (max_functions_ == min_functions_) return 0.0;
  const double n = std::clamp(functions, min_functions_, max_functions_);
  if (log_scale_) {
    const double lo = std::log(static_cast<double>(min_functions_));
    const double hi = std::log(static_cast<double>(max_functions_));
    return (std::log(n) - lo) / (hi - lo);
  }
  return (n - min_functions_) / (max_functions_ - min_functions_);
}

DecodedAction ActionCodec::DecodeUnit(double x_functions,
                                      double x_memory) const {
  DecodedAction decoded;
  decoded.functions = FunctionsAt(std::clamp(x_functions, 0.0, 1.0));
  decoded.requested_functions = decoded.functions;
  const size_t index = static_cast<size_t>(std::lround(
      std::clamp(x_memory, 0.0, 1.0) * static_cast<double>(grid_.size() - 1)));
  decoded.requested_memory_mb = grid_[index];
  decoded.memory_mb =
      std::max(decoded.requested_memory_mb, min_feasible_memory_mb_);
  decoded.memory_clamped = decoded.memory_mb != decoded.requested_memory_mb;
  return decoded;
}

DecodedAction ActionCodec::Decode(const double* action) const {
  double unit[2];
  const int bins[2] = {function_bins_, memory_bins_};
  for (int i = 0; i < 2; ++i) {
    const double a = action[i];
    if (!std::isfinite(a)) BadValue(i, a, "a finite number");
    if (encoding_ == ActionEncoding::kBox) {
      unit[i] = (std::clamp(a, -1.0, 1.0) + 1.0) / 2.0;
    } else {
      if (a != std::floor(a) || a < 0 || a >= bins[i]) {
        BadValue(i, a,
                 "an integer in [0, " + std::to_string(bins[i] - 1) + "]");
      }
      unit[i] = bins[i] > 1 ? a / (bins[i] - 1) : 0.0;
    }
  }
  return DecodeUnit(unit[0], unit[1]);
}

std::array<double, 2> ActionCodec::Encode(int functions, int memory_mb) const {
  const double x_n = UnitOfFunctions(functions);
  const auto nearest =
      std::min_element(grid_.begin(), grid_.end(), [&](int a, int b) {
        return std::abs(a - memory_mb) < std::abs(b - memory_mb);
      });
  const double x_m =
      grid_.size() > 1
          ? static_cast<double>(nearest - grid_.begin()) / (grid_.size() - 1)
          : 0.0;
  if (encoding_ == ActionEncoding::kBox) return {2 * x_n - 1, 2 * x_m - 1};
  return {std::round(x_n * (function_bins_ - 1)),
          std::round(x_m * (memory_bins_ - 1))};
}

}  // namespace siren::env
