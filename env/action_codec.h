// The action (DESIGN.md §3.2): (n, m), the number of functions and their
// memory, in two interchangeable encodings over one decoder.
//
// Both encodings first become unit coordinates (x_n, x_m) in [0, 1]:
//  - kBox: Box(-1, 1, (2,), float32), SIREN's Gaussian policy. Values are
//    clipped to [-1, 1] (a Gaussian sample may fall outside); x = (a + 1) / 2.
//  - kMultiDiscrete: MultiDiscrete([function_bins, memory_bins]);
//    x = index / (bins - 1).
// Then n = round(exp(ln min + x_n (ln max - ln min))) with env.function_scale
// "log" (or min + x_n (max - min) with "linear") over [env.min_functions,
// env.max_functions], and m = grid[round(x_m (G - 1))] over the era's G
// memory sizes. A memory size below what the workload needs is clamped up to
// the smallest feasible size and reported (`memory_clamped`), never run.
// NaN or infinite values, and MultiDiscrete indices that are not integers in
// range, are errors (sim::InvalidAction) naming the coordinate and value.
#ifndef SIREN_ENV_ACTION_CODEC_H_
#define SIREN_ENV_ACTION_CODEC_H_

#include <array>
#include <string>
#include <vector>

#include "env/env_spec.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"

namespace siren::env {

enum class ActionEncoding { kBox, kMultiDiscrete };

// "box" / "multi_discrete"; ParseActionEncoding throws std::invalid_argument
// naming the value for anything else.
const char* ActionEncodingName(ActionEncoding encoding);
ActionEncoding ParseActionEncoding(const std::string& name);

struct DecodedAction {
  int functions = 0;
  int memory_mb = 0;            // What runs (after clamping).
  int requested_memory_mb = 0;  // What the action asked for.
  bool memory_clamped = false;  // requested < smallest feasible size.
  // What the action asked for before the budget clamp (env.action_clamp;
  // functions and memory_mb are what runs), and whether the clamp changed it.
  // The codec sets requested_functions = functions; SirenEnv clamps.
  int requested_functions = 0;
  bool budget_clamped = false;
};

class ActionCodec {
 public:
  ActionCodec(const sim::Scenario& scenario, ActionEncoding encoding);
  ActionCodec(const sim::Scenario& scenario, const EnvSpec& env,
              const sim::Platform& platform, ActionEncoding encoding);

  // Decodes the two action values (float or integer-valued, as doubles).
  DecodedAction Decode(const double* action) const;

  // Decodes unit coordinates in [0, 1] (no clamping of the input needed).
  DecodedAction DecodeUnit(double x_functions, double x_memory) const;

  // An action in this encoding that decodes to the nearest (n, m): lets
  // fixed schedules and baselines drive the env.
  std::array<double, 2> Encode(int functions, int memory_mb) const;

  ActionEncoding encoding() const { return encoding_; }
  int function_bins() const { return function_bins_; }
  int memory_bins() const { return memory_bins_; }
  const std::vector<int>& memory_grid() const { return grid_; }

 private:
  int FunctionsAt(double x) const;
  double UnitOfFunctions(int functions) const;

  ActionEncoding encoding_;
  int min_functions_;
  int max_functions_;
  bool log_scale_;
  int function_bins_;
  int memory_bins_;
  int min_feasible_memory_mb_;
  std::vector<int> grid_;
};

}  // namespace siren::env

#endif  // SIREN_ENV_ACTION_CODEC_H_
