// A Modbus/TCP gateway (pymodbus's forwarder example, built on its RemoteDeviceContext, but
// without its blocking client): the downstream server and the gateway run in one reactor. Unit 1
// of the gateway is a RemoteDevice that forwards every request to the downstream server over one
// TCP connection, reconnecting when it drops; unit 2 is a local device of the gateway.
// A request the downstream cannot take gets 0x0A, one it does not answer in time 0x0B.
// Usage: 08_gateway [ENDPOINT] (the gateway's; default "tcp:5020:interface=127.0.0.1").
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/devices/remote_device.h"
#include "reactor/log.h"
#include "reactor/reactor.h"

int main(int argc, char** argv) {
  try {
    const std::string endpoint = argc > 1 ? argv[1] : "tcp:5020:interface=127.0.0.1";
    reactor::Reactor reactor;

    // The downstream device: holding registers 0..99 = 1234, on a free loopback port.
    auto field = std::make_shared<modbus::DeviceContext>(
        modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 1234)});
    modbus::ModbusTcpServer downstream(reactor, modbus::ServerContext::single(field));
    const reactor::Address downstreamAddress = downstream.listen("tcp:0:interface=127.0.0.1");

    // The gateway: unit 2 local (holding registers 0..99 = 2), unit 1 forwarded to unit 1 downstream.
    auto local = std::make_shared<modbus::DeviceContext>(
        modbus::DeviceTables{.holdingRegisters = modbus::SequentialRegisterBlock::create(0, 100, 2)});
    modbus::ModbusTcpServer gateway(reactor, modbus::ServerContext::multiple({{2, local}}));
    modbus::RemoteDeviceOptions options;
    options.unitId = 1;
    options.timeout = 2.0;
    gateway.factory().setAsyncDevice(
        1, modbus::RemoteDevice::create(reactor, "127.0.0.1", downstreamAddress.port, options));
    const reactor::Address gatewayAddress = gateway.listen(endpoint);
    reactor::log::info("gateway on ", gatewayAddress.toString(), " forwards unit 1 to ", downstreamAddress.toString());

    reactor.run();  // until Ctrl-C / SIGTERM
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "08_gateway: %s\nusage: 08_gateway [ENDPOINT]\n", e.what());
    return 1;
  }
}
