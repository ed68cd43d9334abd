#include "sim/data/dataset.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/core/rng.h"

namespace siren::sim {

void Dataset::Validate() const {
  auto fail = [this](const std::string& what) {
    throw std::invalid_argument("dataset '" + name + "': " + what);
  };
  if (features <= 0)
    fail("features: got " + std::to_string(features) + ", expected > 0");
  if (classes < 2)
    fail("classes: got " + std::to_string(classes) + ", expected >= 2");
  if (height < 0 || width < 0 || (height == 0) != (width == 0) ||
      (height > 0 && (features % height != 0 || features / height != width))) {
    fail("height, width: got " + std::to_string(height) + " x " +
         std::to_string(width) +
         ", expected both 0 (not images) or height x width = features = " +
         std::to_string(features));
  }
  if (indptr.size() != labels.size() + 1) {
    fail("indptr: got " + std::to_string(indptr.size()) +
         " entries, expected rows + 1 = " + std::to_string(labels.size() + 1));
  }
  if (indptr.front() != 0 || indptr.back() != nnz()) {
    fail("indptr: expected to start at 0 and end at nnz = " +
         std::to_string(nnz()));
  }
  if (indices.size() != values.size())
    fail("indices and values differ in length");
  for (size_t r = 1; r < indptr.size(); ++r) {
    if (indptr[r] < indptr[r - 1])
      fail("indptr: not non-decreasing at row " + std::to_string(r - 1));
  }
  for (size_t r = 1; r < indptr.size(); ++r) {
    for (int64_t p = indptr[r - 1] + 1; p < indptr[r]; ++p) {
      if (indices[p] <= indices[p - 1]) {
        fail("indices: columns of row " + std::to_string(r - 1) +
             " not strictly ascending, expected sorted, unique columns per "
             "row (CSR canonical form)");
      }
    }
  }
  for (int32_t c : indices) {
    if (c < 0 || c >= features) {
      fail("indices: got column " + std::to_string(c) + ", expected in [0, " +
           std::to_string(features) + ")");
    }
  }
  for (float v : values) {
    if (!std::isfinite(v))
      fail("values: got a non-finite value, expected finite numbers");
  }
  for (int32_t y : labels) {
    if (y < 0 || y >= classes) {
      fail("labels: got " + std::to_string(y) + ", expected in [0, " +
           std::to_string(classes) + ")");
    }
  }
}

Dataset Dataset::Slice(int64_t begin, int64_t end) const {
  Dataset out;
  out.name = name;
  out.features = features;
  out.classes = classes;
  out.height = height;
  out.width = width;
  out.indptr.assign(1, 0);
  const int64_t from = indptr[begin], to = indptr[end];
  out.indices.assign(indices.begin() + from, indices.begin() + to);
  out.values.assign(values.begin() + from, values.begin() + to);
  for (int64_t r = begin; r < end; ++r)
    out.indptr.push_back(indptr[r + 1] - from);
  out.labels.assign(labels.begin() + begin, labels.begin() + end);
  return out;
}

Dataset GenerateClickThrough(int64_t rows, int64_t features, int fields,
                             uint64_t seed) {
  if (rows <= 0 || features < fields || fields <= 0) {
    throw std::invalid_argument(
        "click-through generator: expected rows > 0 and features >= fields > "
        "0, got rows=" +
        std::to_string(rows) + " features=" + std::to_string(features) +
        " fields=" + std::to_string(fields));
  }
  Rng model_rng(seed, 101);
  Rng data_rng(seed, 102);
  // The hidden model: a weight per column, heavier tails on rarer columns.
  std::vector<double> weight(features);
  for (double& w : weight) w = 0.8 * model_rng.Normal();
  const double bias = -1.6;  // Base click rate ~ 25% after the feature terms.
  const int64_t per_field = features / fields;

  Dataset d;
  d.name = "click_through";
  d.features = features;
  d.classes = 2;
  d.indptr.reserve(rows + 1);
  d.indices.reserve(rows * fields);
  d.values.reserve(rows * fields);
  d.labels.reserve(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double logit = bias;
    for (int f = 0; f < fields; ++f) {
      // Zipf-like category: floor(per_field^u) - 1 for uniform u.
      const double u = data_rng.Uniform();
      const int64_t category = std::min<int64_t>(
          per_field - 1,
          static_cast<int64_t>(std::pow(static_cast<double>(per_field), u)) -
              1);
      const int32_t column = static_cast<int32_t>(f * per_field + category);
      d.indices.push_back(column);
      d.values.push_back(1.0f);
      logit += weight[column] / std::sqrt(static_cast<double>(fields));
    }
    d.indptr.push_back(static_cast<int64_t>(d.indices.size()));
    const double p = 1.0 / (1.0 + std::exp(-logit));
    d.labels.push_back(data_rng.Uniform() < p ? 1 : 0);
  }
  return d;
}

namespace {

// Closes an HDF5 handle on scope exit.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5Handle() {
    if (id >= 0) close(id);
  }
};

template <typename T>
std::vector<T> ReadArray(hid_t file, const char* name, hid_t type,
                         const std::string& path) {
  H5Handle set{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  if (set.id < 0) {
    throw std::invalid_argument("dataset file '" + path + "': missing '" +
                                name + "'");
  }
  H5Handle space{H5Dget_space(set.id), H5Sclose};
  const hssize_t count = H5Sget_simple_extent_npoints(space.id);
  std::vector<T> out(static_cast<size_t>(std::max<hssize_t>(count, 0)));
  if (count > 0 &&
      H5Dread(set.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    throw std::invalid_argument("dataset file '" + path + "': cannot read '" +
                                name + "'");
  }
  return out;
}

// A variable-length UTF-8 string attribute (h5py reads it as str).
void WriteStringAttribute(hid_t object, const char* name,
                          const std::string& value) {
  H5Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{
      H5Acreate2(object, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose};
  const char* text = value.c_str();
  H5Awrite(attr.id, type.id, &text);
}

// A 1-D dataset with its `units` and `description` attributes.
template <typename T>
void WriteArray(hid_t file, const char* name, hid_t type,
                const std::vector<T>& data, const char* units,
                const char* description) {
  const hsize_t count = data.size();
  H5Handle space{H5Screate_simple(1, &count, nullptr), H5Sclose};
  H5Handle set{H5Dcreate2(file, name, type, space.id, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT),
               H5Dclose};
  if (set.id < 0 || (count > 0 && H5Dwrite(set.id, type, H5S_ALL, H5S_ALL,
                                           H5P_DEFAULT, data.data()) < 0)) {
    throw std::runtime_error(std::string("cannot write '") + name + "'");
  }
  WriteStringAttribute(set.id, "units", units);
  WriteStringAttribute(set.id, "description", description);
}

int64_t ReadIntAttribute(hid_t file, const char* name,
                         const std::string& path) {
  H5Handle attr{H5Aopen(file, name, H5P_DEFAULT), H5Aclose};
  if (attr.id < 0) {
    throw std::invalid_argument("dataset file '" + path +
                                "': missing attribute '" + name + "'");
  }
  // One integer: H5Aread writes every element of the attribute, so an array
  // would overrun `value`, and a float would be truncated silently.
  H5Handle space{H5Aget_space(attr.id), H5Sclose};
  H5Handle type{H5Aget_type(attr.id), H5Tclose};
  int64_t value = 0;
  if (space.id < 0 || type.id < 0 ||
      H5Sget_simple_extent_npoints(space.id) != 1 ||
      H5Tget_class(type.id) != H5T_INTEGER ||
      H5Aread(attr.id, H5T_NATIVE_INT64, &value) < 0) {
    throw std::invalid_argument("dataset file '" + path + "': attribute '" +
                                name + "' is not one integer");
  }
  return value;
}

// An optional integer attribute: `fallback` when the file has none.
int64_t ReadOptionalIntAttribute(hid_t file, const char* name,
                                 const std::string& path, int64_t fallback) {
  const htri_t exists = H5Aexists(file, name);
  if (exists < 0) {
    throw std::invalid_argument("dataset file '" + path +
                                "': cannot read attribute '" + name + "'");
  }
  return exists > 0 ? ReadIntAttribute(file, name, path) : fallback;
}

void WriteIntAttribute(hid_t file, const char* name, int64_t value) {
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{H5Acreate2(file, name, H5T_NATIVE_INT64, space.id, H5P_DEFAULT,
                           H5P_DEFAULT),
                H5Aclose};
  H5Awrite(attr.id, H5T_NATIVE_INT64, &value);
}

}  // namespace

Dataset LoadDatasetHdf5(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // Errors become exceptions.
  H5Handle file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file.id < 0) {
    throw std::invalid_argument("dataset file '" + path +
                                "' not found or not HDF5");
  }
  Dataset d;
  d.name = path;
  d.indptr = ReadArray<int64_t>(file.id, "indptr", H5T_NATIVE_INT64, path);
  d.indices = ReadArray<int32_t>(file.id, "indices", H5T_NATIVE_INT32, path);
  d.values = ReadArray<float>(file.id, "values", H5T_NATIVE_FLOAT, path);
  d.labels = ReadArray<int32_t>(file.id, "labels", H5T_NATIVE_INT32, path);
  d.features = ReadIntAttribute(file.id, "features", path);
  const int64_t classes = ReadIntAttribute(file.id, "classes", path);
  // Checked before it narrows to int (2^32 + 3 would read as 3).
  if (classes < 2 || classes > std::numeric_limits<int>::max()) {
    throw std::invalid_argument(
        "dataset file '" + path + "': classes: got " + std::to_string(classes) +
        ", expected an integer in [2, " +
        std::to_string(std::numeric_limits<int>::max()) + "]");
  }
  d.classes = static_cast<int>(classes);
  d.height = ReadOptionalIntAttribute(file.id, "height", path, 0);
  d.width = ReadOptionalIntAttribute(file.id, "width", path, 0);
  d.Validate();
  return d;
}

void SaveDatasetHdf5(const Dataset& dataset, const std::string& path) {
  dataset.Validate();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5Handle file{
      H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
      H5Fclose};
  if (file.id < 0)
    throw std::invalid_argument("cannot create dataset file '" + path + "'");
  WriteArray(file.id, "indptr", H5T_NATIVE_INT64, dataset.indptr, "count",
             "CSR row pointer: row i's entries are indptr[i] to "
             "indptr[i + 1] - 1 of indices and values (rows + 1 entries).");
  WriteArray(file.id, "indices", H5T_NATIVE_INT32, dataset.indices, "count",
             "CSR column (feature) index of each stored entry, in "
             "[0, features).");
  WriteArray(file.id, "values", H5T_NATIVE_FLOAT, dataset.values, "",
             "CSR value of each stored entry (the feature's value).");
  WriteArray(file.id, "labels", H5T_NATIVE_INT32, dataset.labels, "",
             "Class label of each row, in [0, classes).");
  WriteIntAttribute(file.id, "features", dataset.features);
  WriteIntAttribute(file.id, "classes", dataset.classes);
  if (dataset.is_image()) {
    WriteIntAttribute(file.id, "height", dataset.height);
    WriteIntAttribute(file.id, "width", dataset.width);
  }
}

}  // namespace siren::sim
