// Replays every file of the fuzz corpus through the fuzz target (no libFuzzer needed), so each
// normal and sanitizer build re-checks the inputs that ever mattered. Files directly in a corpus
// directory go to the server target (fuzz_modbus_server.cc); files in its config/ subdirectory go
// to the configuration parser's check (fuzz_config.h). Linked with fuzz_http.cc instead, it replays
// corpus/http through the HTTP target (fuzz_http_replay).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> readAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Replays the regular files of `dir` through `target`; returns how many.
template <class Target>
std::size_t replayDirectory(const std::filesystem::path& dir, Target target) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    auto bytes = readAll(entry.path());
    target(bytes.data(), bytes.size());
    ++count;
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  std::size_t configs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path dir(argv[i]);
    count += replayDirectory(dir, LLVMFuzzerTestOneInput);
    if (std::filesystem::is_directory(dir / "config")) {
      configs += replayDirectory(dir / "config", modbus::fuzz::parseConfigText);
    }
  }
  std::printf("replayed %zu corpus inputs and %zu configurations\n", count, configs);
  return count > 0 ? 0 : 1;
}
