#!/usr/bin/python3
"""Checks a running uvmodbus-simulator against docs/openapi.json with Debian's python3-jsonschema.

usage: openapi_check.py DOCUMENT HTTP_BASE MODBUS_PORT

It walks every path and operation of the document, calls it with the document's examples (a live
connection id for /connections/{id}), and validates each answer's body against the schema the
document gives for that status; the error answers too (a malformed parameter, a body that is not
JSON, an empty body, a body over the limit, an address past the table), which must be documented
for the operation. The event stream is read until one call made by a Modbus client arrives, and
its data is validated against the document's CallEvent. Prints one line per check; exits 1 on
the first failed validation or an undocumented status. Every wait has a timeout.
"""
import json
import socket
import struct
import sys
import urllib.error
import urllib.request

import jsonschema

DOC_PATH, BASE, MODBUS_PORT = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3])
with open(DOC_PATH, encoding="utf-8") as f:
    DOC = json.load(f)
COMPONENTS = DOC["components"]
Validator = jsonschema.Draft202012Validator
checks = 0


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def validate(instance, schema, where):
    global checks
    rooted = dict(schema)
    rooted["components"] = COMPONENTS  # "#/components/..." resolves against this root
    try:
        Validator(rooted, format_checker=jsonschema.FormatChecker()).validate(instance)
    except jsonschema.ValidationError as e:
        fail(f"{where}: {e.message} at {list(e.absolute_path)} in {json.dumps(instance)[:400]}")
    checks += 1


def resolve(obj):
    while isinstance(obj, dict) and "$ref" in obj and obj["$ref"].startswith("#/components/"):
        node = DOC
        for part in obj["$ref"][2:].split("/"):
            node = node[part]
        obj = node
    return obj


def request(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_answer(operation, method, path, status, headers, body):
    responses = operation["responses"]
    where = f"{method.upper()} {path} -> {status}"
    if str(status) not in responses:
        fail(f"{where}: status {status} is not documented ({', '.join(responses)}): {body[:300]!r}")
    response = resolve(responses[str(status)])
    content = response.get("content", {})
    if "application/json" not in content:
        fail(f"{where}: the document gives no JSON body for it")
    ctype = headers.get("Content-Type", "")
    if not ctype.startswith("application/json"):
        fail(f"{where}: Content-Type is {ctype!r}")
    validate(json.loads(body), content["application/json"]["schema"], where)
    print("ok", where)


def example_of(parameter):
    parameter = resolve(parameter)
    if "example" not in parameter:
        fail(f"parameter {parameter['name']} has no example")
    return parameter


def build(path, item, operation, overrides=None):
    overrides = overrides or {}
    params = [example_of(p) for p in item.get("parameters", []) + operation.get("parameters", [])]
    query = []
    for p in params:
        value = overrides.get(p["name"], p["example"])
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(value))
        elif p["in"] == "query" and p["name"] in overrides:
            query.append(f"{p['name']}={value}")
        elif p["in"] == "query" and not path.endswith("/stream"):
            query.append(f"{p['name']}={value}")
    return path + ("?" + "&".join(query) if query else "")


def body_example(operation):
    rb = operation.get("requestBody")
    if not rb:
        return None
    media = rb["content"]["application/json"]
    if "example" not in media:
        fail("a request body has no example")
    validate(media["example"], media["schema"], "the request body example")
    return media["example"]


class Modbus:
    """A bare Modbus TCP client socket (it holds a connection open for /connections)."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", MODBUS_PORT), timeout=5)
        self.tid = 0

    def read_holding(self, address, count, unit=1):
        self.tid += 1
        self.sock.sendall(struct.pack(">HHHBBHH", self.tid, 0, 6, unit, 3, address, count))
        header = self.sock.recv(7)
        if len(header) < 7:
            fail("the Modbus server closed the connection")
        length = struct.unpack(">H", header[4:6])[0]
        return self.sock.recv(length - 1)


def check_stream(path, item, operation):
    url = BASE + path + "?function_code=3&unit=1&address_start=10&address_stop=10"
    with urllib.request.urlopen(url, timeout=10) as r:
        if r.status != 200 or not r.headers.get("Content-Type", "").startswith("text/event-stream"):
            fail(f"GET {path}: {r.status} {r.headers.get('Content-Type')}")
        if "200" not in operation["responses"] or "text/event-stream" not in operation["responses"]["200"]["content"]:
            fail(f"GET {path}: the document gives no event stream")
        if r.readline().strip() != b": subscribed":
            fail("the stream did not start with ': subscribed'")
        Modbus().read_holding(10, 1)
        event, data = None, None
        for _ in range(20):  # bounded: the urlopen timeout bounds each line
            line = r.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data is not None:
                break
        if event != "call" or data is None:
            fail(f"no call event arrived (event {event!r})")
        validate(json.loads(data), operation["responses"]["200"]["x-event-data"], f"GET {path} event data")
        print("ok GET", path, "event:", data[:120])


def main():
    # The document itself: every schema is a valid JSON Schema, every operation answers something.
    if not DOC.get("openapi", "").startswith("3.1"):
        fail("not an OpenAPI 3.1 document")
    for name, schema in COMPONENTS["schemas"].items():
        Validator.check_schema(schema)
    status, headers, body = request("GET", "/api/v1/openapi.json")
    if status != 200 or json.loads(body) != DOC:
        fail("GET /api/v1/openapi.json is not the document")

    client = Modbus()
    client.read_holding(10, 1)  # a connection and a counted request for the routes to show
    ops = []
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                ops.append((path, item, method, operation))
    order = {"get": 0, "put": 1, "post": 1, "delete": 2}
    ops.sort(key=lambda o: (order[o[2]], o[0].startswith("/api/v1/connections/")))
    for path, item, method, operation in ops:
        if path.endswith("/calls/stream"):
            check_stream(path, item, operation)
            continue
        overrides = {}
        if "{id}" in path:
            status, _, listed = request("GET", "/api/v1/connections")
            overrides["id"] = json.loads(listed)["connections"][0]["id"]
        target = build(path, item, operation, overrides)
        status, headers, body = request(method.upper(), target, body_example(operation))
        if status != 200:
            fail(f"{method.upper()} {target}: {status} {body[:300]!r}")
        check_answer(operation, method, target, status, headers, body)

        # The errors it documents, provoked.
        names = {resolve(p)["name"] for p in item.get("parameters", []) + operation.get("parameters", [])}
        if "unit" in names:
            bad = build(path, item, operation, dict(overrides, unit="x"))
            check_answer(operation, method, bad, *request(method.upper(), bad, body_example(operation)))
        if "address" in names:
            far = build(path, item, operation, dict(overrides, address=65535))
            check_answer(operation, method, far, *request(method.upper(), far, body_example(operation)))
        if "id" in names:
            gone = build(path, item, operation, {"id": 999999999})
            check_answer(operation, method, gone, *request(method.upper(), gone))
        if "count" in names:
            many = build(path, item, operation, {"count": 99999})
            check_answer(operation, method, many, *request(method.upper(), many))
        if "requestBody" in operation:
            check_answer(operation, method, target, *request(method.upper(), target, raw=b"{not json"))
            check_answer(operation, method, target, *request(method.upper(), target, body={}))
            big = json.dumps({"value": "x" * 70000}).encode()
            check_answer(operation, method, target, *request(method.upper(), target, raw=big))

    # What no operation documents: an unknown route and a method a path does not take.
    status, headers, body = request("GET", "/api/v1/no/such/route")
    if status != 404:
        fail(f"an unknown route answered {status}")
    validate(json.loads(body), {"$ref": "#/components/schemas/Error"}, "GET /api/v1/no/such/route")
    status, headers, body = request("POST", "/api/v1/devices", body={})
    if status != 405 or not headers.get("Allow"):
        fail(f"POST /api/v1/devices answered {status} (Allow {headers.get('Allow')!r})")
    validate(json.loads(body), {"$ref": "#/components/schemas/Error"}, "POST /api/v1/devices")
    print(f"openapi check: {len(ops)} operations, {checks} validations passed")


main()
