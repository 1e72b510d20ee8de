"""A client of the echo server written from its published contract alone.

Fetches the AsyncAPI document the server serves (GET /asyncapi.json on its HTTP side port),
then, over Nest's framed TCP transport, calls every request pattern with its contract example
and validates each reply against the response schema of the document; sends each request
pattern a payload its schema rejects and validates the error reply against the error envelope's
schema; emits every event pattern's example. Standard library and `jsonschema` only.

    python3 echo_client.py HOST TCP_PORT HTTP_PORT

Prints one line per step and exits 0 when every reply matched the contract, 1 when one did not,
2 on a usage or connection error.
"""

import codecs
import copy
import json
import socket
import sys
import urllib.request
import uuid

import jsonschema

TIMEOUT_SECONDS = 5
# A field no DTO has: the server forbids unknown fields, so does every schema.
UNKNOWN_FIELD = "x-not-in-the-contract"


class ContractError(Exception):
    """A reply or a document that does not match the contract."""


def fetch_document(host, http_port):
    url = "http://%s:%d/asyncapi.json" % (host, http_port)
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        document = json.load(response)
    if not str(document.get("asyncapi", "")).startswith("3."):
        raise ContractError("%s is not an AsyncAPI 3 document" % url)
    return document


def resolve(document, node):
    """Follows a local `$ref` (`#/a/b`) of the document, as many times as it takes."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator_of(document, message):
    """A JSON Schema validator of a message's payload; its `$ref`s point into the document's components."""
    schema = {"allOf": [message["payload"]], "components": document["components"]}
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def check(validator, value, what):
    errors = sorted(validator.iter_errors(value), key=lambda error: list(error.path))
    if errors:
        details = "; ".join("%s: %s" % ("/".join(map(str, error.path)) or "(payload)", error.message) for error in errors)
        raise ContractError("%s does not match its schema: %s" % (what, details))


class FramedSocket:
    """Nest's TCP framing: `<length>#<json>`, the length in UTF-16 code units of the JSON text."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""

    def send(self, packet):
        text = json.dumps(packet, ensure_ascii=False, separators=(",", ":"))
        length = len(text.encode("utf-16-le")) // 2
        self.sock.sendall(("%d#%s" % (length, text)).encode("utf-8"))

    def receive(self):
        while True:
            packet = self._take_frame()
            if packet is not None:
                return packet
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ContractError("the server closed the connection")
            self.text += self.decoder.decode(chunk)

    def _take_frame(self):
        hash_at = self.text.find("#")
        if hash_at < 0:
            return None
        header = self.text[:hash_at]
        if not header.isdigit():
            raise ContractError("bad frame header %r" % header[:20])
        wanted, units, end = int(header), 0, hash_at + 1
        while units < wanted and end < len(self.text):
            units += 2 if ord(self.text[end]) > 0xFFFF else 1
            end += 1
        if units < wanted:
            return None
        body, self.text = self.text[hash_at + 1 : end], self.text[end:]
        return json.loads(body)

    def close(self):
        self.sock.close()


def call(connection, pattern, data):
    request_id = str(uuid.uuid4())
    connection.send({"pattern": pattern, "data": data, "id": request_id})
    reply = connection.receive()
    if reply.get("id") != request_id or reply.get("isDisposed") is not True:
        raise ContractError("%s: not the reply to our request: %s" % (pattern, json.dumps(reply)[:200]))
    return reply


def run_request(document, connection, operation):
    channel = resolve(document, operation["channel"])
    pattern = channel["address"]
    request = resolve(document, operation["messages"][0])
    replies = [resolve(document, message) for message in operation["reply"]["messages"]]
    response = next(message for message in replies if message["name"] != "rpcError")
    error = next(message for message in replies if message["name"] == "rpcError")
    request_validator = validator_of(document, request)

    for example in request.get("examples", []):
        check(request_validator, example["payload"], "%s's example request" % pattern)
        reply = call(connection, pattern, example["payload"])
        if "err" in reply:
            raise ContractError("%s: the example got an error: %s" % (pattern, json.dumps(reply["err"])))
        check(validator_of(document, response), reply["response"], "%s's response" % pattern)
        expected = request.get("x-example-response", {})
        wrong = {field: reply["response"].get(field) for field, value in expected.items() if reply["response"].get(field) != value}
        if wrong:
            raise ContractError("%s: expected %s, got %s" % (pattern, json.dumps(expected), json.dumps(wrong, ensure_ascii=False)))
        print("call %s %s -> %s: ok" % (pattern, json.dumps(example["payload"], ensure_ascii=False), ", ".join(sorted(reply["response"]))))

    # A payload the schema rejects (one field too many) is rejected by the server too, with the envelope.
    bad = copy.deepcopy(request["examples"][0]["payload"]) if request.get("examples") else {}
    bad[UNKNOWN_FIELD] = True
    if request_validator.is_valid(bad):
        raise ContractError("%s's request schema accepts an unknown field" % pattern)
    reply = call(connection, pattern, bad)
    if "err" not in reply:
        raise ContractError("%s: the server accepted a payload its schema rejects" % pattern)
    check(validator_of(document, error), reply["err"], "%s's error reply" % pattern)
    print("call %s with %s -> %s: ok" % (pattern, UNKNOWN_FIELD, reply["err"]["code"]))


def run_event(document, connection, operation):
    channel = resolve(document, operation["channel"])
    pattern = channel["address"]
    message = resolve(document, operation["messages"][0])
    for example in message.get("examples", []):
        check(validator_of(document, message), example["payload"], "%s's example event" % pattern)
        connection.send({"pattern": pattern, "data": example["payload"]})
        print("emit %s %s: sent" % (pattern, json.dumps(example["payload"], ensure_ascii=False)))


def main(argv):
    if len(argv) != 4:
        print("usage: echo_client.py HOST TCP_PORT HTTP_PORT", file=sys.stderr)
        return 2
    host, tcp_port, http_port = argv[1], int(argv[2]), int(argv[3])
    try:
        document = fetch_document(host, http_port)
        print("asyncapi %s: %s %s, %d operations" % (document["asyncapi"], document["info"]["title"], document["info"]["version"], len(document["operations"])))
        connection = FramedSocket(host, tcp_port)
    except (OSError, ValueError) as error:
        print("cannot reach the server: %s" % error, file=sys.stderr)
        return 2
    except ContractError as error:
        print("FAIL %s" % error, file=sys.stderr)
        return 1
    try:
        for operation in document["operations"].values():
            if operation["action"] != "send":
                continue
            if "reply" in operation:
                run_request(document, connection, operation)
            else:
                run_event(document, connection, operation)
        # Events have no reply: one more call shows the connection (and the server) took them.
        hello = call(connection, "hello", {})
        if "err" in hello:
            raise ContractError("hello after the events failed: %s" % json.dumps(hello["err"]))
    except (ContractError, OSError, ValueError) as error:
        print("FAIL %s" % error, file=sys.stderr)
        return 1
    finally:
        connection.close()
    print("every reply matched the contract")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
