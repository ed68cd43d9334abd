// The generations of AWS Lambda, as data: each row becomes the default of
// the era-dependent parameters when `lambda.era` names it.
#include "sim/platform/aws_lambda/aws_lambda.h"

namespace siren::sim::aws_lambda {

const char kGenerationSource[] =
    "Memory range / Timeout / Billing granularity rows (Lambda developer "
    "guide history; AWS What's New 1 Dec 2020); INIT billing row (AWS "
    "Compute Blog, Apr 2025); Scaling rate and Burst rows (Lambda developer "
    "guide, 'Lambda scaling behavior'; Operator Guide)";

const std::vector<Generation>& Generations() {
  static const auto* const generations = new std::vector<Generation>{
      // 2018 (the SIREN paper's platform): 128-3008 MB in 64 MB steps,
      // 300 s timeout, duration billed in 100 ms units, INIT not billed, an
      // initial burst of 3,000 environments (us-east-1) then +500/min.
      {"2018", 128, 3008, 64, 300.0, 0.1, false, 3000, 500.0 / 60.0},
      // December 2020 to July 2025: up to 10,240 MB in 1 MB steps, 900 s
      // timeout (since October 2018), 1 ms billing, INIT not billed; the
      // burst rule until late 2023 (kept for the whole era: one row).
      {"2020+", 128, 10240, 1, 900.0, 0.001, false, 3000, 500.0 / 60.0},
      // Since 1 August 2025: the INIT phase of on-demand ZIP functions on
      // managed runtimes is billed; 1,000 new execution environments per
      // 10 s per function, refilled continuously (since late 2023).
      {"2025+", 128, 10240, 1, 900.0, 0.001, true, 1000, 100.0},
  };
  return *generations;
}

}  // namespace siren::sim::aws_lambda
