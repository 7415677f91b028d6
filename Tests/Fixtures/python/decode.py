#!/usr/bin/env python3
"""Independent decoder for EnvoyAPI tests.

Usage: decode.py TYPE_URL < message.bin
Decodes the bytes on stdin as the message named by TYPE_URL using the official
generated Python code from PyPI `xds-protos`, and prints proto3 JSON with the
proto field names (like Envoy's config_dump). Any payloads are resolved through the
default descriptor pool, so every module that might appear in an Any is imported.
"""
import importlib
import json
import sys

from google.protobuf import json_format, symbol_database

# Modules whose messages the tests put inside Any (typed_config) or at the top level.
MODULES = [
    "envoy.config.listener.v3.listener_pb2",
    "envoy.config.route.v3.route_pb2",
    "envoy.config.cluster.v3.cluster_pb2",
    "envoy.config.endpoint.v3.endpoint_pb2",
    "envoy.extensions.transport_sockets.tls.v3.secret_pb2",
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2",
    "envoy.service.discovery.v3.discovery_pb2",
    "google.protobuf.duration_pb2",
    "google.protobuf.struct_pb2",
    "google.protobuf.wrappers_pb2",
]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: decode.py TYPE_URL < bytes", file=sys.stderr)
        return 2
    for name in MODULES:
        importlib.import_module(name)
    full_name = sys.argv[1].rsplit("/", 1)[-1]
    message_class = symbol_database.Default().GetSymbol(full_name)
    message = message_class()
    message.ParseFromString(sys.stdin.buffer.read())
    as_dict = json_format.MessageToDict(message, preserving_proto_field_name=True)
    print(json.dumps(as_dict, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
