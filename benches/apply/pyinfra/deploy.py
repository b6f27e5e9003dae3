# The apply benchmark's role (benches/apply/roles/bench) as pyinfra operations, task for task:
#   BENCH_INVENTORY=the fleet's inventory.ini pyinfra -y --parallel 50 --data bench_root=DIR inventory.py deploy.py
# Files and the template are the role's own; the result on every host is byte for byte and mode for mode
# what the role leaves (checked against mdxconf's and ansible-playbook's trees). Two differences in shape:
# `command ... creates:` becomes a prepare-time File fact (pyinfra plans with facts), and blockinfile's
# mode needs its own files.file operation. pyinfra reports the python.call (stat+assert) as "Success" on
# every run: the benchmark does not count that row as a change.
import io
import os

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, python, server
from pyinfra.operations.util import any_changed

role = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "roles", "bench")
name = host.name
bench_dir = f"{host.data.bench_root}/{name}"
bench_packages = ["alpha", "beta", "gamma"]

files.directory(name="host directory", path=bench_dir, mode="755")
files.directory(name="etc directory", path=f"{bench_dir}/etc", mode="750")
motd = files.put(name="motd", src=io.StringIO(f"hello from {name}\n"), dest=f"{bench_dir}/motd", mode="644")
files.put(name="static file", src=f"{role}/files/banner.txt", dest=f"{bench_dir}/banner.txt", mode="644")
conf = files.template(
    name="rendered config",
    src=f"{role}/templates/app.conf.j2",
    dest=f"{bench_dir}/etc/app.conf",
    mode="640",
    # Ansible's template module renders with trim_blocks
    jinja_env_kwargs={"trim_blocks": True},
    inventory_hostname=name,
    bench_packages=bench_packages,
)
files.line(name="a line", path=f"{bench_dir}/etc/flags", line="^enabled=yes$")
files.block(name="a block", path=f"{bench_dir}/hosts", content="127.0.0.1 bench", marker="# {mark} ANSIBLE MANAGED BLOCK")
# blockinfile's `mode: "0644"`: files.block has no mode (it creates the file 0600), so one more operation
files.file(name="a block (mode)", path=f"{bench_dir}/hosts", mode="644")
# `command: touch ... creates: ...`: pyinfra checks the file at prepare time (a fact) instead
if not host.get_fact(File, path=f"{bench_dir}/initialised"):
    server.shell(name="initialise once", commands=[f"touch {bench_dir}/initialised"])


def motd_exists():
    # stat + assert, at execution time (the file is created by this deploy's first run, after the facts
    # that the prepare phase cached): one remote `test -f`, like Ansible's stat
    ok, _ = host.run_shell_command(f"test -f {bench_dir}/motd")
    assert ok, "motd missing"


python.call(name="motd exists", function=motd_exists)
# the handler, notified by motd and the rendered config
server.shell(name="reload bench", commands=[f"touch {bench_dir}/reloaded"], _if=any_changed(motd, conf))
