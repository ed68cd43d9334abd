#include "agent/trainer/train_log.h"

#include <hdf5.h>

#include <cstdio>
#include <functional>
#include <stdexcept>

namespace siren::agent {
namespace {

void WriteColumn(hid_t file, const char* name, const std::vector<double>& v) {
  const hsize_t count = v.size();
  const hid_t space = H5Screate_simple(1, &count, nullptr);
  const hid_t set = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, space,
                               H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (count > 0) {
    H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  }
  H5Dclose(set);
  H5Sclose(space);
}

void WriteStringAttribute(hid_t file, const std::string& name,
                          const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.empty() ? 1 : value.size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT,
                                H5P_DEFAULT);
  H5Awrite(attr, type, value.empty() ? "" : value.c_str());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

}  // namespace

void WriteTrainLog(const std::string& path,
                   const std::vector<IterationLog>& log,
                   const std::map<std::string, std::string>& attributes) {
  // Write a temporary file, then rename: the log on disk is always whole.
  const std::string temporary = path + ".tmp";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file =
      H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot write training log " + path);
  const std::vector<
      std::pair<const char*, std::function<double(const IterationLog&)>>>
      columns = {
          {"iteration", [](const IterationLog& r) { return r.iteration; }},
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
          {"env_steps",
           [](const IterationLog& r) { return static_cast<double>(r.env_steps); }},
      };
  for (const auto& [name, get] : columns) {
    std::vector<double> values;
    for (const IterationLog& row : log) values.push_back(get(row));
    WriteColumn(file, name, values);
  }
  for (const auto& [name, value] : attributes) {
    WriteStringAttribute(file, name, value);
  }
  H5Fclose(file);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot move training log into " + path);
  }
}

}  // namespace siren::agent
