// pymodbus's name for the stream server protocol, kept for porting users who grep for it: the class
// is ModbusStreamProtocol (it serves TCP, TLS and RTU/ASCII over TCP alike).
// Tests: tests/protocols/serving/modbus_stream_protocol_test.cc
#pragma once

#include "protocols/serving/modbus_stream_protocol.h"
