// Tests for FrameServer (protocols/serving/frame_server.{h,cc}), the serving core the stream, UDP and
// serial protocols share: the decode loop with a policy, buffering across reads, and one request's
// typed answer (send, silence, pending), with exception 04 when a handler throws; the ASCII delimiter
// followed across transports.
#include "protocols/serving/frame_server.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "framers/ascii_framer.h"
#include "framers/rtu_framer.h"
#include "framers/socket_framer.h"
#include "protocols/devices/async_device.h"
#include "tests/support/pty_pair.h"

namespace {

using testsupport::Bytes;
using testsupport::hexBytes;
using testsupport::withCrc;

std::shared_ptr<modbus::RequestProcessor> makeProcessor() {
  auto device = std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{
      .coils = modbus::SequentialBitBlock::create(0, 10),
      .discreteInputs = modbus::SequentialBitBlock::create(0, 10),
      .holdingRegisters = modbus::SequentialRegisterBlock::create(0, 10),
      .inputRegisters = modbus::SequentialRegisterBlock::create(0, 10),
  });
  return std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::multiple({{1, device}}));
}

/// Records what the loop hands over.
struct Recorder : modbus::FramePolicy {
  std::vector<std::uint8_t> units;
  int discards = 0;
  int fatals = 0;
  void frame(const modbus::DecodeResult& r) { units.push_back(r.header.unitId); }
  void discarded(const modbus::DecodeResult&) { ++discards; }
  void fatal(const modbus::DecodeResult&) { ++fatals; }
};

struct NeverAnswers : modbus::AsyncDevice {
  void submit(std::uint8_t, std::span<const std::uint8_t>, modbus::Completion) override {}
};

}  // namespace

TEST_CASE("FrameServer decodes every whole frame, drops noise, and keeps a split frame for the next read") {
  auto processor = makeProcessor();
  modbus::RtuFramer framer;
  modbus::FrameServer core(framer, *processor);
  Recorder policy;
  modbus::Buffer input(0);
  const Bytes a = withCrc(hexBytes("01 03 00 00 00 01"));
  const Bytes b = withCrc(hexBytes("02 03 00 00 00 01"));
  Bytes first(a);
  first.insert(first.end(), b.begin(), b.begin() + 3);
  core.feed(input, first, policy);
  CHECK(policy.units == std::vector<std::uint8_t>{1});
  CHECK(input.readableBytes() == 3);  // the start of b, copied
  core.feed(input, Bytes(b.begin() + 3, b.end()), policy);
  CHECK(policy.units == std::vector<std::uint8_t>{1, 2});
  CHECK(input.readableBytes() == 0);
}

TEST_CASE("FrameServer stops at a Fatal framing error and consumes the rest") {
  auto processor = makeProcessor();
  modbus::SocketFramer framer;
  modbus::FrameServer core(framer, *processor);
  Recorder policy;
  // A whole frame, then an MBAP length of 0x1000: no resynchronising after that.
  const Bytes input = hexBytes("00 01 00 00 00 06 01 03 00 00 00 01  00 02 00 00 10 00 01 03 00 00");
  CHECK(core.decodeFrames(input, policy) == input.size());
  CHECK(policy.units == std::vector<std::uint8_t>{1});
  CHECK(policy.fatals == 1);
}

TEST_CASE("FrameServer::serve answers, stays silent, or leaves an asynchronous unit pending") {
  auto processor = makeProcessor();
  modbus::RtuFramer framer;
  modbus::FrameServer core(framer, *processor);
  std::array<std::uint8_t, modbus::kMaxPduSize> response{};
  modbus::Answer answer = core.serve(1, hexBytes("03 00 00 00 01"), response, false, "test");
  CHECK(answer.kind == modbus::Answer::Kind::Send);
  CHECK(answer.length == 4);
  processor->setAsyncDevice(9, std::make_shared<NeverAnswers>());
  answer = core.serve(9, hexBytes("03 00 00 00 01"), response, /*allowAsync=*/true, "test");
  CHECK(answer.kind == modbus::Answer::Kind::Pending);
  CHECK(answer.device != nullptr);
  // A transport that cannot wait gets the processor's answer instead (gateway path unavailable).
  answer = core.serve(9, hexBytes("03 00 00 00 01"), response, /*allowAsync=*/false, "test");
  CHECK(answer.kind == modbus::Answer::Kind::Send);
  CHECK(response[0] == 0x83);
}

TEST_CASE("FrameServer::serve answers exception 04 when a handler throws") {
  auto processor = makeProcessor();
  processor->registerFunction(0x41, [](modbus::DeviceContext&, std::span<const std::uint8_t>,
                                 std::span<std::uint8_t>) -> std::size_t { throw std::runtime_error("boom"); });
  modbus::RtuFramer framer;
  modbus::FrameServer core(framer, *processor);
  std::array<std::uint8_t, modbus::kMaxPduSize> response{};
  const modbus::Answer answer = core.serve(1, hexBytes("41 00"), response, false, "test");
  CHECK(answer.kind == modbus::Answer::Kind::Send);
  CHECK(answer.length == 2);
  CHECK(response[0] == 0xC1);
  CHECK(response[1] == 0x04);
}

TEST_CASE("an ASCII line follows an FC 8/03 delimiter set through another transport, and setting it back repairs the line") {
  auto processor = makeProcessor();
  modbus::AsciiFramer lineFramer;
  modbus::FrameServer line(lineFramer, *processor);
  modbus::SocketFramer tcpFramer;
  modbus::FrameServer tcp(tcpFramer, *processor);
  std::array<std::uint8_t, modbus::kMaxPduSize> response{};
  const std::string text = ":010300000001FB\r\n";  // unit 1, FC 3, one register at 0; LRC FB
  const Bytes request(text.begin(), text.end());

  Recorder before;
  CHECK(line.decodeFrames(request, before) == request.size());
  REQUIRE(before.units == std::vector<std::uint8_t>{1});
  line.serve(1, hexBytes("03 00 00 00 01"), response, false, "line");  // the line now follows unit 1

  // A TCP client changes unit 1's delimiter to '!': the line no longer ends frames at LF.
  CHECK(tcp.serve(1, hexBytes("08 00 03 21 00"), response, false, "tcp").kind == modbus::Answer::Kind::Send);
  Recorder broken;
  line.decodeFrames(request, broken);
  CHECK(broken.units.empty());
  CHECK(broken.discards == 2);  // up to the CR not followed by the delimiter, then the stray LF

  // Setting LF back through TCP repairs the line at its next input, without a frame served there.
  CHECK(tcp.serve(1, hexBytes("08 00 03 0A 00"), response, false, "tcp").kind == modbus::Answer::Kind::Send);
  Recorder repaired;
  CHECK(line.decodeFrames(request, repaired) == request.size());
  CHECK(repaired.units == std::vector<std::uint8_t>{1});
  CHECK(repaired.discards == 0);
}

TEST_CASE("an ASCII line of a one-device datastore follows an FC 8/03 made through another transport before serving anything") {
  auto processor = makeProcessor();  // one unit: 1
  modbus::AsciiFramer lineFramer;
  modbus::FrameServer line(lineFramer, *processor);
  modbus::SocketFramer tcpFramer;
  modbus::FrameServer tcp(tcpFramer, *processor);
  std::array<std::uint8_t, modbus::kMaxPduSize> response{};
  CHECK(tcp.serve(1, hexBytes("08 00 03 21 00"), response, false, "tcp").kind == modbus::Answer::Kind::Send);
  const std::string lf = ":010300000001FB\r\n";
  const std::string bang = ":010300000001FB\r!";
  Recorder withLf;
  line.decodeFrames(Bytes(lf.begin(), lf.end()), withLf);
  CHECK(withLf.units.empty());
  Recorder withBang;
  CHECK(line.decodeFrames(Bytes(bang.begin(), bang.end()), withBang) == bang.size());
  CHECK(withBang.units == std::vector<std::uint8_t>{1});

  // With several devices the line cannot know whose delimiter to take until it serves one: LF.
  auto two = std::make_shared<modbus::RequestProcessor>(modbus::ServerContext::multiple(
      {{1, std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{})},
       {2, std::make_shared<modbus::DeviceContext>(modbus::DeviceTables{})}}));
  modbus::FrameServer tcpTwo(tcpFramer, *two);
  CHECK(tcpTwo.serve(1, hexBytes("08 00 03 21 00"), response, false, "tcp").kind == modbus::Answer::Kind::Send);
  modbus::AsciiFramer shared;
  modbus::FrameServer sharedLine(shared, *two);
  Recorder sharedLf;
  CHECK(sharedLine.decodeFrames(Bytes(lf.begin(), lf.end()), sharedLf) == lf.size());
  CHECK(sharedLf.units == std::vector<std::uint8_t>{1});
}
