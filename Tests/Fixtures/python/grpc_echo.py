"""Proxyless gRPC fixtures for Sextant's integration tests (grpcio from .venv).

  grpc_echo.py serve NAME=PORT [NAME=PORT ...]
      One gRPC server per pair on 127.0.0.1:PORT; `/echo.Echo/Say` answers NAME.
  grpc_echo.py call TARGET OUTFILE
      A client of TARGET (e.g. xds:///echo-grpc:50051, with GRPC_XDS_BOOTSTRAP set)
      that calls for ever, alternately without and with `x-canary: true`, appending
      one line per call to OUTFILE: "plain NAME", "canary NAME" or "<kind> error CODE".
No generated stubs: requests and responses are raw bytes.
"""
import sys
import time
from concurrent import futures

import grpc


def serve(pairs):
    servers = []
    for pair in pairs:
        name, port = pair.split("=")
        answer = name.encode()
        handler = grpc.method_handlers_generic_handler(
            "echo.Echo", {"Say": grpc.unary_unary_rpc_method_handler(lambda request, context, answer=answer: answer)})
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((handler,))
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        servers.append(server)
        print(f"serving {name} on 127.0.0.1:{port}", flush=True)
    for server in servers:
        server.wait_for_termination()


def call(target, outfile):
    channel = grpc.insecure_channel(target)
    say = channel.unary_unary("/echo.Echo/Say")
    with open(outfile, "a", buffering=1) as out:
        canary = False
        while True:
            kind = "canary" if canary else "plain"
            metadata = (("x-canary", "true"),) if canary else ()
            try:
                answer = say(b"hi", timeout=10, metadata=metadata)
                out.write(f"{kind} {answer.decode()}\n")
            except grpc.RpcError as error:
                out.write(f"{kind} error {error.code().name}\n")
                time.sleep(0.05)
            canary = not canary
            time.sleep(0.005)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif sys.argv[1] == "call":
        call(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
