#!/usr/bin/env python3
"""Commands one host's shell was asked to run, from `strace -f -s 100000 -e trace=execve` of its sshd.

    capture_commands.py STRACE_LOG HOST_DIR OUT

Each `bash -c CMD` (or `sh -c CMD`) that sshd started becomes one entry of OUT, NUL-separated, in order,
with HOST_DIR (e.g. .../root/mdx/host1) replaced by .../root/mdx/{host}: the file ssh_floor replays with
`@OUT` on every host (benches/apply_bench.sh's floor-replay). Prints the number of commands.
"""
import ast
import re
import sys

log, host_dir, out = sys.argv[1:4]
base = host_dir.rsplit("/", 1)[0]
cmds = []
for line in open(log, errors="replace"):
    m = re.search(r'execve\("[^"]*/(?:bash|sh|dash)", \["[^"]*", "-c", (".*?")\], 0x', line)
    if m:
        # strace's escapes (\n, \", \\, \t, \ooo) read as a Python string literal
        cmds.append(ast.literal_eval(m.group(1)).replace(host_dir, base + "/{host}"))
with open(out, "w") as f:
    f.write("\0".join(cmds))
print(len(cmds))
