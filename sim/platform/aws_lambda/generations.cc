// The generations of AWS Lambda, as data: each row becomes the default of
// the era-dependent parameters when `lambda.era` names it.
#include "sim/platform/aws_lambda/aws_lambda.h"

namespace siren::sim::aws_lambda {

const char kGenerationSource[] =
    "Memory range / Timeout / Billing granularity rows (Lambda developer "
    "guide history; AWS What's New 1 Dec 2020)";

const std::vector<Generation>& Generations() {
  static const auto* const generations = new std::vector<Generation>{
      // 2018 (the SIREN paper's platform): 128-3008 MB in 64 MB steps,
      // 300 s timeout, duration billed in 100 ms units.
      {"2018", 128, 3008, 64, 300.0, 0.1},
      // Since December 2020: up to 10,240 MB in 1 MB steps, 900 s timeout
      // (since October 2018), 1 ms billing.
      {"2020+", 128, 10240, 1, 900.0, 0.001},
  };
  return *generations;
}

}  // namespace siren::sim::aws_lambda
