// Training data for the `sgd` convergence model (DESIGN.md §2.6), shared with
// the runner through siren._core: a sparse float32 feature matrix in CSR form
// and integer class labels, with a seeded click-through generator and an HDF5
// format that Python (h5py) and C++ both read and write.
//
// HDF5 layout (one file, root group):
//   indptr  int64 [rows + 1]   CSR row pointers
//   indices int32 [nnz]        column of each value, ascending within a row
//   values  float32 [nnz]
//   labels  int32 [rows]       class in [0, classes)
//   attributes: features (int64), classes (int64)
//   optional attributes height, width (int64, both or neither): each row is
//     a single-channel height x width image, pixel (y, x) in column
//     y * width + x, so features = height x width. Dense images are stored
//     in the same CSR form (zero pixels omitted); the convolutional model of
//     the sgd convergence model needs them.
#ifndef SIREN_SIM_DATA_DATASET_H_
#define SIREN_SIM_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace siren::sim {

struct Dataset {
  std::string name;
  int64_t features = 0;
  int classes = 2;
  // Image geometry (0 and 0: the rows are not images).
  int64_t height = 0;
  int64_t width = 0;
  std::vector<int64_t> indptr = {0};
  std::vector<int32_t> indices;
  std::vector<float> values;
  std::vector<int32_t> labels;

  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t nnz() const { return static_cast<int64_t>(values.size()); }

  bool is_image() const { return height > 0; }

  // Throws std::invalid_argument naming the first inconsistency (sizes,
  // column or label out of range, non-finite value, image geometry that is
  // not features = height x width).
  void Validate() const;

  // Rows [begin, end) as a new dataset.
  Dataset Slice(int64_t begin, int64_t end) const;
};

// A synthetic click-through log: every row has `fields` active one-hot
// features (one category per field, Zipf-distributed, hashed into
// `features` columns) and a click label drawn from a hidden logistic model
// with a base click rate near 25%, as in public click logs. Deterministic
// in `seed`.
Dataset GenerateClickThrough(int64_t rows, int64_t features, int fields,
                             uint64_t seed);

// Reads / writes the HDF5 layout above. Errors name the file and the field.
Dataset LoadDatasetHdf5(const std::string& path);
void SaveDatasetHdf5(const Dataset& dataset, const std::string& path);

}  // namespace siren::sim

#endif  // SIREN_SIM_DATA_DATASET_H_
