// Test helper (not installed): runs the mask primitives on text input, for the Python tests that
// compare them with pycocotools and torch.
//
//   rle_tool encode   stdin: "<h> <w> <row-major 0/1 string>" per line
//                     stdout: "<counts> <area> <bbox x> <bbox y> <bbox w> <bbox h>" per line
//   rle_tool decode   stdin: "<h> <w> <counts>" per line; stdout: the row-major 0/1 string
//   rle_tool resize   stdin: "<ih> <iw> <oh> <ow> <ih·iw floats, row-major>" per line
//                     stdout: the row-major 0/1 string of the resized, thresholded mask
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "vmt/error.h"
#include "vmt/mask.h"

namespace {

std::string bits_of(const vmt::Bitmap& mask) {
  std::string bits(mask.data().size(), '0');
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = mask.data()[i] ? '1' : '0';
  return bits;
}

void encode(std::istream& in, std::ostream& out) {
  vmt::MaskSize size;
  std::string bits;
  while (in >> size.height >> size.width >> bits) {
    std::vector<std::uint8_t> data(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i) data[i] = bits[i] == '1';
    const vmt::Rle rle = vmt::rle_encode({data, size});
    const vmt::BoundingBox box = vmt::rle_bbox(rle);
    out << vmt::rle_to_string(rle) << ' ' << vmt::rle_area(rle) << ' ' << box.x << ' ' << box.y
        << ' ' << box.width << ' ' << box.height << '\n';
  }
}

void decode(std::istream& in, std::ostream& out) {
  vmt::MaskSize size;
  std::string counts;
  while (in >> size.height >> size.width >> counts) {
    out << bits_of(vmt::rle_decode(vmt::rle_from_string(counts, size))) << '\n';
  }
}

void resize(std::istream& in, std::ostream& out) {
  vmt::MaskSize from, to;
  while (in >> from.height >> from.width >> to.height >> to.width) {
    std::vector<float> p(from.pixels());
    for (auto& v : p) in >> v;
    out << bits_of(vmt::resize_probabilities(p, from, to)) << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  std::ios::sync_with_stdio(false);
  try {
    if (mode == "encode") {
      encode(std::cin, std::cout);
    } else if (mode == "decode") {
      decode(std::cin, std::cout);
    } else if (mode == "resize") {
      resize(std::cin, std::cout);
    } else {
      std::cerr << "usage: rle_tool encode|decode|resize < input\n";
      return 2;
    }
  } catch (const vmt::Error& e) {
    std::cerr << "rle_tool: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
