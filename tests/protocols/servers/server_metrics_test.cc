// The /metrics page of Modbus servers (protocols/servers/server_metrics.h): the whole text for a
// known set of counters, byte by byte, and the labels of real servers listening on port 0.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_udp_server.h"
#include "protocols/servers/server_metrics.h"
#include "reactor/reactor.h"

using namespace modbus;

namespace {

/// Every line of the histogram of `server` with no observation.
std::string emptyHistogram(const std::string& server) {
  std::string out;
  for (const char* le : {"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                         "0.1", "0.25", "0.5", "1", "+Inf"}) {
    out += "modbus_request_duration_seconds_bucket{server=\"" + server + "\",le=\"" + le + "\"} 0\n";
  }
  out += "modbus_request_duration_seconds_sum{server=\"" + server + "\"} 0\n";
  out += "modbus_request_duration_seconds_count{server=\"" + server + "\"} 0\n";
  return out;
}

}  // namespace

TEST_CASE("server metrics: the exposition of known counters, byte by byte") {
  ServingMetrics m;
  m.requests[3] = 5;
  m.requests[16] = 1;
  m.exceptions[3][2] = 2;
  m.exceptions[3][0] = 1;  // a code above 15
  m.bytesReceived = 72;
  m.bytesSent = 61;
  m.connectionsMade = 3;
  m.connectionsLost = 1;
  m.latency.observe(0.0002, 4);
  m.latency.observe(2.0);
  ServingMetrics udp;  // nothing served yet, no connection log
  ConnectionLog log(10, 10);
  log.record(ConnectionEvent::IdleTimeout, reactor::log::Level::Debug, "idle");
  log.record(ConnectionEvent::RefusedFull, reactor::log::Level::Debug, "full");
  const std::vector<ServerMetricsSource> sources{{"tcp:127.0.0.1:5020", &m, &log}, {"udp:127.0.0.1:5020", &udp, nullptr}};
  const std::string t = "tcp:127.0.0.1:5020", u = "udp:127.0.0.1:5020";
  const std::string expected =
      "# HELP modbus_requests_total Modbus requests decoded and run, by function code.\n"
      "# TYPE modbus_requests_total counter\n"
      "modbus_requests_total{server=\"" + t + "\",function_code=\"3\"} 5\n"
      "modbus_requests_total{server=\"" + t + "\",function_code=\"16\"} 1\n"
      "# HELP modbus_exceptions_total Exception responses sent, by function code and exception code (\"other\": a code above 15).\n"
      "# TYPE modbus_exceptions_total counter\n"
      "modbus_exceptions_total{server=\"" + t + "\",function_code=\"3\",exception_code=\"other\"} 1\n"
      "modbus_exceptions_total{server=\"" + t + "\",function_code=\"3\",exception_code=\"2\"} 2\n"
      "# HELP modbus_connections_open Connections open now (a serial line counts as one while open).\n"
      "# TYPE modbus_connections_open gauge\n"
      "modbus_connections_open{server=\"" + t + "\"} 2\n"
      "modbus_connections_open{server=\"" + u + "\"} 0\n"
      "# HELP modbus_connections_accepted_total Connections accepted (serial: times the line opened).\n"
      "# TYPE modbus_connections_accepted_total counter\n"
      "modbus_connections_accepted_total{server=\"" + t + "\"} 3\n"
      "modbus_connections_accepted_total{server=\"" + u + "\"} 0\n"
      "# HELP modbus_connections_closed_total Connections closed, by either side, for any reason.\n"
      "# TYPE modbus_connections_closed_total counter\n"
      "modbus_connections_closed_total{server=\"" + t + "\"} 1\n"
      "modbus_connections_closed_total{server=\"" + u + "\"} 0\n"
      "# HELP modbus_connections_closed_by_server_total Connections the server closed, by reason (TCP and TLS servers).\n"
      "# TYPE modbus_connections_closed_by_server_total counter\n"
      "modbus_connections_closed_by_server_total{server=\"" + t + "\",reason=\"evicted\"} 0\n"
      "modbus_connections_closed_by_server_total{server=\"" + t + "\",reason=\"frame_timeout\"} 0\n"
      "modbus_connections_closed_by_server_total{server=\"" + t + "\",reason=\"idle_timeout\"} 1\n"
      "modbus_connections_closed_by_server_total{server=\"" + t + "\",reason=\"framing_error\"} 0\n"
      "# HELP modbus_connections_refused_total Connections refused at accept, by reason (TCP and TLS servers).\n"
      "# TYPE modbus_connections_refused_total counter\n"
      "modbus_connections_refused_total{server=\"" + t + "\",reason=\"per_peer_limit\"} 0\n"
      "modbus_connections_refused_total{server=\"" + t + "\",reason=\"max_connections\"} 1\n"
      "# HELP modbus_received_bytes_total Bytes received from clients (datagrams and serial input included).\n"
      "# TYPE modbus_received_bytes_total counter\n"
      "modbus_received_bytes_total{server=\"" + t + "\"} 72\n"
      "modbus_received_bytes_total{server=\"" + u + "\"} 0\n"
      "# HELP modbus_sent_bytes_total Bytes sent to clients.\n"
      "# TYPE modbus_sent_bytes_total counter\n"
      "modbus_sent_bytes_total{server=\"" + t + "\"} 61\n"
      "modbus_sent_bytes_total{server=\"" + u + "\"} 0\n"
      "# HELP modbus_request_duration_seconds Seconds from the read that brought a request to the write of its answer.\n"
      "# TYPE modbus_request_duration_seconds histogram\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"5e-05\"} 0\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.0001\"} 0\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.00025\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.0005\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.001\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.0025\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.005\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.01\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.025\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.05\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.1\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.25\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"0.5\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"1\"} 4\n"
      "modbus_request_duration_seconds_bucket{server=\"" + t + "\",le=\"+Inf\"} 5\n"
      "modbus_request_duration_seconds_sum{server=\"" + t + "\"} 2.0008\n"
      "modbus_request_duration_seconds_count{server=\"" + t + "\"} 5\n" +
      emptyHistogram(u);
  CHECK(renderServerMetrics(sources) == expected);
}

TEST_CASE("server metrics: servers are labelled by transport and bound address, with a connection log for TCP only") {
  reactor::Reactor reactor;
  DeviceTables tables;
  tables.holdingRegisters = SequentialDataBlock<std::uint16_t>::create(0, 10);
  auto context = ServerContext::multiple({{1, std::make_shared<DeviceContext>(tables)}});
  std::vector<std::unique_ptr<ModbusServer>> servers;
  auto tcp = std::make_unique<ModbusTcpServer>(reactor, context);
  const auto tcpAddress = tcp->listen("tcp:0:interface=127.0.0.1");
  auto udp = std::make_unique<ModbusUdpServer>(reactor, context);
  const auto udpAddress = udp->listen("udp:0:interface=127.0.0.1");
  CHECK(serverMetricsLabel(*tcp) == "tcp:127.0.0.1:" + std::to_string(tcpAddress.port));
  CHECK(serverMetricsLabel(*udp) == "udp:127.0.0.1:" + std::to_string(udpAddress.port));
  servers.push_back(std::move(tcp));
  servers.push_back(std::move(udp));
  const auto sources = metricsSources(servers);
  REQUIRE(sources.size() == 2);
  CHECK(sources[0].connectionLog != nullptr);  // a TCP server has one
  CHECK(sources[1].connectionLog == nullptr);  // a UDP server does not
  CHECK(sources[0].metrics == &servers[0]->metrics());
  servers.clear();  // the ports close with their servers, before the reactor
}
