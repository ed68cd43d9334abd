#include "agent/trainer/train_log.h"

#include <hdf5.h>

#include <cstdio>
#include <functional>
#include <stdexcept>

namespace siren::agent {
namespace {

// A scalar attribute of `object`.
void WriteScalar(hid_t object, const std::string& name, hid_t type,
                 const void* value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr =
      H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, value);
  H5Aclose(attr);
  H5Sclose(space);
}

// A variable-length UTF-8 string attribute: h5py reads it as `str` (a
// fixed-length one would come back as bytes).
void WriteStringAttribute(hid_t object, const std::string& name,
                          const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const char* text = value.c_str();
  WriteScalar(object, name, type, &text);
  H5Tclose(type);
}

void WriteAttribute(hid_t object, const std::string& name,
                    const LogAttribute& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    WriteStringAttribute(object, name, *text);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    WriteScalar(object, name, H5T_NATIVE_INT64, i);
  } else if (const auto* u = std::get_if<uint64_t>(&value)) {
    WriteScalar(object, name, H5T_NATIVE_UINT64, u);
  } else {
    WriteScalar(object, name, H5T_NATIVE_DOUBLE, &std::get<double>(value));
  }
}

template <typename T>
void WriteColumn(hid_t file, const LogColumn& column, hid_t type,
                 const std::vector<T>& v) {
  const hsize_t count = v.size();
  const hid_t space = H5Screate_simple(1, &count, nullptr);
  const hid_t set = H5Dcreate2(file, column.name, type, space, H5P_DEFAULT,
                               H5P_DEFAULT, H5P_DEFAULT);
  if (count > 0) H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  WriteStringAttribute(set, "units", column.unit);
  WriteStringAttribute(set, "description", column.description);
  H5Dclose(set);
  H5Sclose(space);
}

}  // namespace

const std::vector<LogColumn>& TrainLogColumns() {
  // Units in the vocabulary of the epoch field table
  // (sim/core/epoch_fields.cc).
  static const std::vector<LogColumn> columns = {
      {"iteration", "index", "0-based training iteration."},
      {"mean_return", "",
       "Mean undiscounted episode return of the iteration's rollout."},
      {"mean_jct_s", "s",
       "Mean simulated job completion (stop) time of the rollout's episodes."},
      {"mean_cost_usd", "usd", "Mean cost of the rollout's episodes."},
      {"success_rate", "1",
       "Share of the rollout's episodes that reached the target loss within "
       "the budget."},
      {"entropy", "nats", "Entropy of the Gaussian policy after the update."},
      {"env_steps_per_s", "1/s",
       "Env steps (simulated epochs) per second of wall time in the rollout."},
      {"wall_s", "s", "Cumulative wall time of the run (resumed runs too)."},
      {"env_steps", "count", "Cumulative env steps of the run."},
  };
  return columns;
}

void WriteTrainLog(const std::string& path,
                   const std::vector<IterationLog>& log,
                   const std::map<std::string, LogAttribute>& attributes) {
  // Write a temporary file, then rename: the log on disk is always whole.
  const std::string temporary = path + ".tmp";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file =
      H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot write training log " + path);
  const std::map<std::string, std::function<double(const IterationLog&)>>
      floats = {
          {"mean_return", [](const IterationLog& r) { return r.mean_return; }},
          {"mean_jct_s", [](const IterationLog& r) { return r.mean_jct_s; }},
          {"mean_cost_usd",
           [](const IterationLog& r) { return r.mean_cost_usd; }},
          {"success_rate",
           [](const IterationLog& r) { return r.success_rate; }},
          {"entropy", [](const IterationLog& r) { return r.entropy; }},
          {"env_steps_per_s",
           [](const IterationLog& r) { return r.env_steps_per_s; }},
          {"wall_s", [](const IterationLog& r) { return r.wall_s; }},
      };
  for (const LogColumn& column : TrainLogColumns()) {
    const std::string name = column.name;
    if (name == "iteration" || name == "env_steps") {
      std::vector<int64_t> values;
      for (const IterationLog& row : log) {
        values.push_back(name == "iteration" ? row.iteration : row.env_steps);
      }
      WriteColumn(file, column, H5T_NATIVE_INT64, values);
    } else {
      std::vector<double> values;
      for (const IterationLog& row : log)
        values.push_back(floats.at(name)(row));
      WriteColumn(file, column, H5T_NATIVE_DOUBLE, values);
    }
  }
  for (const auto& [name, value] : attributes) {
    WriteAttribute(file, name, value);
  }
  H5Fclose(file);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot move training log into " + path);
  }
}

}  // namespace siren::agent
