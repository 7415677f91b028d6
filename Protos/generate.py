#!/usr/bin/env python3
"""Regenerate Sources/CEnvoyAPI from the Envoy API descriptors carried by PyPI xds-protos,
and etcd's v3 API (KV, Watch, Lease, Cluster, Maintenance) from PyPI aetcd.

xds-protos ships no .proto sources, but every generated module carries its serialized
FileDescriptorProto. We walk the dependencies of the roots in Protos/roots.txt depth first
(dependencies before dependents), drop annotation-only files (validate, udpa/xds/envoy
annotations, google.api http annotations) together with every custom option they define,
and hand the resulting FileDescriptorSet to protoc's protoc-c plugin (`--c_out`).

Usage: Protos/generate.py [--check]
  --check  generate into a temporary folder and fail if it differs from the committed C.
Requires: python packages in Protos/requirements.txt, `protoc` and `protoc-c` on PATH.
"""
import filecmp
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TARGET = os.path.join(REPO, "Sources", "CEnvoyAPI")

# Files that only carry annotations (validation rules, versioning, security tags). They
# add custom options and nothing the wire format or JSON mapping needs.
STRIPPED_PREFIXES = (
    "validate/",
    "udpa/annotations/",
    "xds/annotations/",
    "envoy/annotations/",
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/protobuf/descriptor.proto",
)

HAND_WRITTEN = {"module.modulemap"}

# etcd's API: aetcd ships its generated modules with the serialized descriptors of
# etcd's rpc.proto, kv.proto and auth.proto, annotation options (gogoproto, google.api)
# already stripped. They are read as bytes, never imported (the gencode's protobuf
# runtime check is not ours to satisfy), and renamed under etcd/ so their C files do not
# sit at the root of the include path.
ETCD_FILES = (("auth_pb2.py", "auth.proto", "etcd/authpb/auth.proto"),
              ("kv_pb2.py", "kv.proto", "etcd/mvccpb/kv.proto"),
              ("rpc_pb2.py", "rpc.proto", "etcd/etcdserverpb/rpc.proto"))
SERIALIZED = re.compile(rb"AddSerializedFile\((b'(?:[^'\\]|\\.)*')\)")


def stripped(name):
    return name.startswith(STRIPPED_PREFIXES)


def read_roots():
    with open(os.path.join(HERE, "roots.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def module_for(proto_name):
    return importlib.import_module(proto_name[: -len(".proto")].replace("/", ".") + "_pb2")


def closure(roots):
    """FileDescriptors in dependency order (each file after everything it imports)."""
    ordered, seen = [], set()

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        ordered.append(fd)

    for root in roots:
        visit(module_for(root).DESCRIPTOR)
    return ordered


def clear_custom_options(msg):
    """Recursively drop extension (custom) options from every *Options message."""
    for field, value in msg.ListFields():
        if field.is_extension:
            msg.ClearExtension(field)
            continue
        if field.message_type is None:
            continue
        values = value if field.is_repeated else [value]
        for v in values:
            clear_custom_options(v)
    if type(msg).__name__.endswith("Options"):
        msg.DiscardUnknownFields()
        if not msg.ListFields():
            # An options message left empty would still be emitted as present.
            msg.Clear()


def drop_empty_options(msg):
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if field.name == "options" and not value.ListFields():
            msg.ClearField("options")
            continue
        for v in (value if field.is_repeated else [value]):
            drop_empty_options(v)


def etcd_files():
    """etcd's FileDescriptorProtos, dependencies first, with their new names."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("aetcd")
    if spec is None:
        sys.exit("aetcd is not installed in this venv (scripts/setup.sh installs aetcd==1.0.0 --no-deps)")
    rpc_dir = os.path.join(spec.submodule_search_locations[0], "rpc")
    renames = {old: new for _, old, new in ETCD_FILES}
    files = []
    for module, _, new in ETCD_FILES:
        with open(os.path.join(rpc_dir, module), "rb") as f:
            match = SERIALIZED.search(f.read())
        proto = descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(match.group(1).decode("latin-1")))
        proto.name = new
        deps = [renames.get(d, d) for d in proto.dependency]
        del proto.dependency[:]
        proto.dependency.extend(deps)
        proto.ClearField("options")
        clear_custom_options(proto)
        drop_empty_options(proto)
        files.append(proto)
    return files


def build_set(roots):
    fds = descriptor_pb2.FileDescriptorSet()
    for fd in closure(roots):
        if stripped(fd.name):
            continue
        proto = descriptor_pb2.FileDescriptorProto.FromString(fd.serialized_pb)
        kept = [d for d in proto.dependency if not stripped(d)]
        # public/weak dependency indexes point into `dependency`; none of the kept
        # files re-export an annotation file, so remapping by name is enough.
        public = [proto.dependency[i] for i in proto.public_dependency]
        del proto.dependency[:]
        proto.dependency.extend(kept)
        del proto.public_dependency[:]
        proto.public_dependency.extend(kept.index(p) for p in public if p in kept)
        del proto.weak_dependency[:]
        clear_custom_options(proto)
        drop_empty_options(proto)
        fds.file.append(proto)
    fds.file.extend(etcd_files())
    return fds


def run_protoc(fds, out_dir):
    with tempfile.TemporaryDirectory() as tmp:
        set_path = os.path.join(tmp, "envoy-api.pb")
        with open(set_path, "wb") as f:
            f.write(fds.SerializeToString(deterministic=True))
        names = [f.name for f in fds.file]
        subprocess.run(["protoc", f"--descriptor_set_in={set_path}", f"--c_out={out_dir}", *names], check=True)
    return [n[: -len(".proto")] for n in names]


DESCRIPTOR_DECL = re.compile(r"^extern const ProtobufCMessageDescriptor (\w+);$", re.M)


def layout(raw_dir, stems, target):
    """Headers go under include/ (the public search path), sources under src/."""
    include, src = os.path.join(target, "include"), os.path.join(target, "src")
    descriptors = []
    for stem in stems:
        for ext, base in ((".pb-c.h", include), (".pb-c.c", src)):
            dest = os.path.join(base, stem + ext)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(os.path.join(raw_dir, stem + ext), dest)
        with open(os.path.join(raw_dir, stem + ".pb-c.h")) as f:
            descriptors.extend(DESCRIPTOR_DECL.findall(f.read()))

    banner = "/* Generated by Protos/generate.py. DO NOT EDIT! */\n"
    with open(os.path.join(include, "CEnvoyAPI.h"), "w") as f:
        f.write(banner + "#ifndef SEXTANT_CENVOYAPI_H\n#define SEXTANT_CENVOYAPI_H\n\n")
        f.write("#include <stddef.h>\n#include <protobuf-c/protobuf-c.h>\n\n")
        for stem in stems:
            f.write(f'#include "{stem}.pb-c.h"\n')
        f.write("\n/* Every message descriptor of the generated API, for the type-URL registry. */\n")
        f.write("const ProtobufCMessageDescriptor *const *sextant_message_descriptors(size_t *count);\n")
        f.write("\n#endif\n")
    with open(os.path.join(src, "type_table.c"), "w") as f:
        f.write(banner + '#include "CEnvoyAPI.h"\n\n')
        f.write("static const ProtobufCMessageDescriptor *const table[] = {\n")
        for d in descriptors:
            f.write(f"    &{d},\n")
        f.write("};\n\n")
        f.write("const ProtobufCMessageDescriptor *const *sextant_message_descriptors(size_t *count) {\n")
        f.write("    *count = sizeof(table) / sizeof(table[0]);\n    return table;\n}\n")


def generate(target):
    for sub in ("include", "src"):
        path = os.path.join(target, sub)
        if os.path.isdir(path):
            for entry in os.listdir(path):
                if entry in HAND_WRITTEN:
                    continue
                full = os.path.join(path, entry)
                shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
    with tempfile.TemporaryDirectory() as raw:
        stems = run_protoc(build_set(read_roots()), raw)
        layout(raw, stems, target)
    return stems


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    diffs = cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files
    if diffs:
        print("differs:", ", ".join(diffs[:10]), file=sys.stderr)
        return False
    return all(same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


def main():
    if "--check" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, "CEnvoyAPI")
            shutil.copytree(TARGET, fresh)
            generate(fresh)
            if not same_tree(TARGET, fresh):
                print("Sources/CEnvoyAPI is stale: run Protos/generate.py", file=sys.stderr)
                return 1
        print("Sources/CEnvoyAPI matches its generator")
        return 0
    stems = generate(TARGET)
    print(f"generated {len(stems)} files into {os.path.relpath(TARGET, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
