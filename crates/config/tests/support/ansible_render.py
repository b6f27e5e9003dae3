# Renders templates with Ansible's own Templar (ansible-core) for the differential test.
# Input (stdin): {"ctx": {...}, "templates": [...]}; output: [{"ok": str} | {"err": str}].
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
data = json.load(sys.stdin)
t = Templar(loader=DataLoader(), variables=data["ctx"])
out = []
for s in data["templates"]:
    try:
        r = t.template(s)
        # compare printed text: Python's str() of non-string results
        out.append({"ok": r if isinstance(r, str) else str(r)})
    except Exception as e:
        out.append({"err": str(e)})
print(json.dumps(out, default=str))
