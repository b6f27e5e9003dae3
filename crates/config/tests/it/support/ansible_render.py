# Renders templates with Ansible's own Templar (ansible-core) for the differential test.
# Input (stdin): {"ctx": {...}, "templates": [...]} or {"ctx": {...}, "files": [paths]} (rendered
# as the template module does: no backslash escaping, trailing newline kept);
# output: [{"ok": str} | {"err": str}].
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
data = json.load(sys.stdin)
t = Templar(loader=DataLoader(), variables=data["ctx"])
out = []
for path in data.get("files", []):
    try:
        with open(path) as f:
            text = f.read()
        out.append({"ok": t.do_template(text, preserve_trailing_newlines=True, escape_backslashes=False)})
    except Exception as e:
        out.append({"err": str(e)})
for s in data.get("templates", []):
    try:
        r = t.template(s)
        # compare printed text: Python's str() of non-string results
        out.append({"ok": r if isinstance(r, str) else str(r)})
    except Exception as e:
        out.append({"err": str(e)})
print(json.dumps(out, default=str))
