#include "sim/convergence/sgd/models/conv_layers.h"

#include <algorithm>
#include <cstring>

namespace siren::sim::sgd {
namespace {

// The kernel columns [lo, hi) that fall on the image when the kernel's left
// edge is at input column `left` (may be negative).
void ValidSpan(int64_t left, int64_t kernel, int64_t width, int64_t* lo,
               int64_t* hi) {
  *lo = std::max<int64_t>(0, -left);
  *hi = std::min<int64_t>(kernel, width - left);
}

}  // namespace

void Im2Col(const ConvShape& s, const float* x, int64_t images, float* cols) {
  const int64_t oh = s.out_height(), ow = s.out_width(), c = s.in_channels;
  const int64_t patch = s.patch(), row_width = s.kernel * c;
  float* out = cols;
  for (int64_t n = 0; n < images; ++n) {
    const float* image = x + n * s.height * s.width * c;
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox, out += patch) {
        const int64_t left = ox - s.padding;
        int64_t lo, hi;
        ValidSpan(left, s.kernel, s.width, &lo, &hi);
        for (int64_t ky = 0; ky < s.kernel; ++ky) {
          float* dst = out + ky * row_width;
          const int64_t iy = oy - s.padding + ky;
          if (iy < 0 || iy >= s.height || lo >= hi) {
            std::fill(dst, dst + row_width, 0.0f);
            continue;
          }
          // Kernel columns [lo, hi) are contiguous input pixels (NHWC).
          std::fill(dst, dst + lo * c, 0.0f);
          std::memcpy(dst + lo * c, image + (iy * s.width + left + lo) * c,
                      sizeof(float) * (hi - lo) * c);
          std::fill(dst + hi * c, dst + row_width, 0.0f);
        }
      }
    }
  }
}

void Col2Im(const ConvShape& s, const float* dcols, int64_t images, float* dx) {
  const int64_t oh = s.out_height(), ow = s.out_width(), c = s.in_channels;
  const int64_t patch = s.patch(), row_width = s.kernel * c;
  std::fill(dx, dx + images * s.height * s.width * c, 0.0f);
  const float* in = dcols;
  for (int64_t n = 0; n < images; ++n) {
    float* image = dx + n * s.height * s.width * c;
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox, in += patch) {
        const int64_t left = ox - s.padding;
        int64_t lo, hi;
        ValidSpan(left, s.kernel, s.width, &lo, &hi);
        for (int64_t ky = 0; ky < s.kernel; ++ky) {
          const int64_t iy = oy - s.padding + ky;
          if (iy < 0 || iy >= s.height) continue;
          const float* src = in + ky * row_width + lo * c;
          float* dst = image + (iy * s.width + left + lo) * c;
          for (int64_t j = 0; j < (hi - lo) * c; ++j) dst[j] += src[j];
        }
      }
    }
  }
}

void ConvForward(const ConvShape& s, const float* x, int64_t images,
                 const float* params, float* cols, float* y) {
  const int64_t m = images * s.out_height() * s.out_width();
  Im2Col(s, x, images, cols);
  DenseForward(s.as_dense(), ConstRowMap(cols, m, s.patch()), params,
               RowMap(y, m, s.out_channels));
}

void ConvBackward(const ConvShape& s, const float* cols, const float* dy,
                  int64_t images, const float* params, float* gradient,
                  float* dcols, float* dx) {
  const int64_t m = images * s.out_height() * s.out_width();
  RowMap dcols_map(dcols, dx != nullptr ? m : 0, s.patch());
  DenseBackward(s.as_dense(), ConstRowMap(cols, m, s.patch()),
                ConstRowMap(dy, m, s.out_channels), params, gradient,
                dx != nullptr ? &dcols_map : nullptr);
  if (dx != nullptr) Col2Im(s, dcols, images, dx);
}

void MaxPoolForward(const PoolShape& s, const float* x, int64_t images,
                    float* y, int64_t* argmax) {
  const int64_t ph = s.out_height(), pw = s.out_width(), c = s.channels;
  int64_t out = 0;
  for (int64_t n = 0; n < images; ++n) {
    const int64_t base = n * s.height * s.width * c;
    for (int64_t py = 0; py < ph; ++py) {
      for (int64_t px = 0; px < pw; ++px) {
        const int64_t corner = base + ((2 * py) * s.width + 2 * px) * c;
        const int64_t offsets[4] = {0, c, s.width * c, (s.width + 1) * c};
        for (int64_t ch = 0; ch < c; ++ch, ++out) {
          int64_t best = corner + ch;
          for (int k = 1; k < 4; ++k) {
            const int64_t at = corner + offsets[k] + ch;
            if (x[at] > x[best]) best = at;
          }
          y[out] = x[best];
          argmax[out] = best;
        }
      }
    }
  }
}

void MaxPoolBackward(const PoolShape& s, const float* dy, const int64_t* argmax,
                     int64_t images, float* dx) {
  const int64_t inputs = images * s.height * s.width * s.channels;
  const int64_t outputs = images * s.out_height() * s.out_width() * s.channels;
  std::fill(dx, dx + inputs, 0.0f);
  for (int64_t i = 0; i < outputs; ++i) dx[argmax[i]] += dy[i];
}

}  // namespace siren::sim::sgd
