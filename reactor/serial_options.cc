// SerialOptions and the "serial:" endpoint parser.
#include "reactor/serial_options.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace reactor {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool parseBool(const EndpointDescription& desc, const std::string& key, bool fallback) {
  if (!desc.has(key)) return fallback;
  std::string v = lower(desc.get(key));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw EndpointError("endpoint field '" + key + "' must be a boolean (1/0, true/false, yes/no, on/off), got '" +
                      desc.get(key) + "'");
}

}  // namespace

char parityLetter(Parity parity) noexcept {
  switch (parity) {
    case Parity::None: return 'N';
    case Parity::Odd: return 'O';
    case Parity::Even: return 'E';
    case Parity::Mark: return 'M';
    case Parity::Space: return 'S';
  }
  return '?';
}

std::optional<Parity> parityFromName(std::string_view name) noexcept {
  std::string v;
  for (char c : name) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "n" || v == "none") return Parity::None;
  if (v == "o" || v == "odd") return Parity::Odd;
  if (v == "e" || v == "even") return Parity::Even;
  if (v == "m" || v == "mark") return Parity::Mark;
  if (v == "s" || v == "space") return Parity::Space;
  return std::nullopt;
}

std::string SerialOptions::toString() const {
  std::string out = device + " " + std::to_string(baudrate) + " " + std::to_string(dataBits) + parityLetter(parity) +
                    std::to_string(stopBits);
  if (flowControl == FlowControl::RtsCts) out += " rtscts";
  if (flowControl == FlowControl::XonXoff) out += " xonxoff";
  if (rs485.enabled) out += " rs485";
  return out;
}

SerialOptions parseSerialEndpoint(const EndpointDescription& desc) {
  if (desc.type != "serial") {
    throw EndpointError("a serial endpoint must start with serial:, not '" + desc.type + ":'");
  }
  static const std::set<std::string> kKeys = {
      "device",           "port",          "baudrate",          "bytesize",          "databits",
      "parity",           "stopbits",      "flowcontrol",       "rtscts",            "xonxoff",
      "rs485",            "rs485_rts_on_send", "rs485_rts_after_send", "rs485_rx_during_tx",
      "rs485_delay_before", "rs485_delay_after", "exclusive"};
  for (const auto& [key, value] : desc.kwargs) {
    if (kKeys.count(key) == 0) throw EndpointError("unknown keyword '" + key + "' for endpoint 'serial'");
  }
  if (desc.args.size() > 1) {
    throw EndpointError("endpoint 'serial' takes one positional field (the device); escape ':' in the path as '\\:'");
  }
  SerialOptions o;
  int deviceSources = static_cast<int>(desc.args.size()) + (desc.has("device") ? 1 : 0) + (desc.has("port") ? 1 : 0);
  if (deviceSources > 1) throw EndpointError("endpoint 'serial' got its device more than once");
  o.device = !desc.args.empty() ? desc.args[0] : desc.has("device") ? desc.get("device") : desc.get("port");
  if (o.device.empty()) throw EndpointError("endpoint 'serial' needs a device (serial:/dev/ttyUSB0)");

  o.baudrate = static_cast<std::uint32_t>(desc.getInt("baudrate", 19200, 1, 4000000));
  if (desc.has("bytesize") && desc.has("databits")) throw EndpointError("give bytesize= or databits=, not both");
  o.dataBits = static_cast<int>(desc.has("databits") ? desc.getInt("databits", 8, 5, 8) : desc.getInt("bytesize", 8, 5, 8));
  if (desc.has("parity")) {
    auto p = parityFromName(desc.get("parity"));
    if (!p) throw EndpointError("endpoint field 'parity' must be N, E, O, M or S, got '" + desc.get("parity") + "'");
    o.parity = *p;
  }
  o.stopBits = static_cast<int>(desc.getInt("stopbits", 1, 1, 2));

  bool rtscts = parseBool(desc, "rtscts", false);
  bool xonxoff = parseBool(desc, "xonxoff", false);
  if (desc.has("flowcontrol")) {
    if (desc.has("rtscts") || desc.has("xonxoff")) {
      throw EndpointError("give flowcontrol= or rtscts=/xonxoff=, not both");
    }
    std::string f = lower(desc.get("flowcontrol"));
    if (f == "none") {
    } else if (f == "rtscts") {
      rtscts = true;
    } else if (f == "xonxoff") {
      xonxoff = true;
    } else {
      throw EndpointError("endpoint field 'flowcontrol' must be none, rtscts or xonxoff, got '" +
                          desc.get("flowcontrol") + "'");
    }
  }
  if (rtscts && xonxoff) throw EndpointError("choose one flow control: rtscts or xonxoff");
  o.flowControl = rtscts ? FlowControl::RtsCts : xonxoff ? FlowControl::XonXoff : FlowControl::None;

  o.rs485.enabled = parseBool(desc, "rs485", false);
  o.rs485.rtsOnSend = parseBool(desc, "rs485_rts_on_send", true);
  o.rs485.rtsAfterSend = parseBool(desc, "rs485_rts_after_send", false);
  o.rs485.rxDuringTx = parseBool(desc, "rs485_rx_during_tx", false);
  o.rs485.delayBeforeSendMs = static_cast<std::uint32_t>(desc.getInt("rs485_delay_before", 0, 0, 10000));
  o.rs485.delayAfterSendMs = static_cast<std::uint32_t>(desc.getInt("rs485_delay_after", 0, 0, 10000));
  bool anyRs485Detail = desc.has("rs485_rts_on_send") || desc.has("rs485_rts_after_send") ||
                        desc.has("rs485_rx_during_tx") || desc.has("rs485_delay_before") || desc.has("rs485_delay_after");
  if (anyRs485Detail && !o.rs485.enabled) throw EndpointError("rs485_* settings need rs485=1");
  o.exclusive = parseBool(desc, "exclusive", true);
  return o;
}

}  // namespace reactor
