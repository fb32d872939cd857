#!/usr/bin/env python3
"""Generates en-US/AzureLinuxImage.dll-Help.xml (MAML) from tools/help/<Cmdlet>.json, one file per
cmdlet, so help blocks stay consistent. Run `python3 tools/maml.py` after adding or editing a JSON
file and commit both. The xUnit HelpCoverageTests keep the help file and the code in sync.

JSON: {"name": "Get-X", "synopsis": "...", "description": "...",
       "sets": [["Path", "Force"], ["LiteralPath", "Force"]],
       "parameters": [{"name": "Path", "type": "String[]", "required": true, "position": "0",
                       "pipeline": "True (ByPropertyName, ByValue)", "globbing": true,
                       "aliases": "none", "default": "None", "description": "..."}],
       "inputs": [["System.String", "..."]], "outputs": [["Type.Name", "..."]],
       "examples": [["Get-X a.vhd", "What it does."]], "notes": "..."}"""
import json, sys
from xml.sax.saxutils import escape as e

def para(text):
    return "".join(f"<maml:para>{e(p)}</maml:para>" for p in text.split("\n\n"))

def block(c):
    verb, noun = c["name"].split("-", 1)
    params = {p["name"]: p for p in c["parameters"]}
    out = ['  <command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">',
           f'    <command:details><command:name>{c["name"]}</command:name><command:verb>{verb}</command:verb><command:noun>{noun}</command:noun>',
           f'      <maml:description>{para(c["synopsis"])}</maml:description></command:details>',
           f'    <maml:description>{para(c["description"])}</maml:description>',
           '    <command:syntax>']
    for s in c["sets"]:
        out.append(f'      <command:syntaxItem><maml:name>{c["name"]}</maml:name>')
        for n in s:
            p = params[n]
            sw = p["type"] == "SwitchParameter"
            out.append(f'        <command:parameter required="{str(p.get("required", False)).lower()}" position="{p.get("position", "named")}" pipelineInput="{p.get("pipeline", "False")}" globbing="{str(p.get("globbing", False)).lower()}"><maml:name>{n}</maml:name>'
                       + ("" if sw else f'<command:parameterValue required="true">{e(p["type"])}</command:parameterValue>') + '</command:parameter>')
        out.append('      </command:syntaxItem>')
    out.append('    </command:syntax>\n    <command:parameters>')
    for p in c["parameters"]:
        sw = p["type"] == "SwitchParameter"
        out.append(f'      <command:parameter required="{str(p.get("required", False)).lower()}" variableLength="{str(p["type"].endswith("[]")).lower()}" globbing="{str(p.get("globbing", False)).lower()}" pipelineInput="{p.get("pipeline", "False")}" position="{p.get("position", "named")}" aliases="{p.get("aliases", "none")}">')
        out.append(f'        <maml:name>{p["name"]}</maml:name><maml:description>{para(p["description"])}</maml:description>')
        if not sw:
            out.append(f'        <command:parameterValue required="true" variableLength="{str(p["type"].endswith("[]")).lower()}">{e(p["type"])}</command:parameterValue>')
        out.append(f'        <dev:type><maml:name>{e(p["type"])}</maml:name></dev:type><dev:defaultValue>{e(p.get("default", "None"))}</dev:defaultValue>')
        out.append('      </command:parameter>')
    out.append('    </command:parameters>\n    <command:inputTypes>')
    for t, d in c.get("inputs", []):
        out.append(f'      <command:inputType><dev:type><maml:name>{e(t)}</maml:name></dev:type><maml:description>{para(d)}</maml:description></command:inputType>')
    out.append('    </command:inputTypes>\n    <command:returnValues>')
    for t, d in c.get("outputs", []):
        out.append(f'      <command:returnValue><dev:type><maml:name>{e(t)}</maml:name></dev:type><maml:description>{para(d)}</maml:description></command:returnValue>')
    out.append('    </command:returnValues>')
    if c.get("notes"):
        out.append(f'    <maml:alertSet><maml:alert>{para(c["notes"])}</maml:alert></maml:alertSet>')
    out.append('    <command:examples>')
    for i, (code, remarks) in enumerate(c["examples"], 1):
        out.append(f'      <command:example><maml:title>-------------------------- Example {i} --------------------------</maml:title><dev:code>{e(code)}</dev:code><dev:remarks>{para(remarks)}</dev:remarks></command:example>')
    out.append('    </command:examples>\n    <command:relatedLinks><maml:navigationLink><maml:linkText>about_AzureLinuxImage</maml:linkText></maml:navigationLink></command:relatedLinks>\n  </command:command>')
    return "\n".join(out)

if __name__ == "__main__":
    import glob, os
    here = os.path.dirname(os.path.abspath(__file__))
    blocks = [block(json.load(open(f, encoding="utf-8"))) for f in sorted(glob.glob(os.path.join(here, "help", "*.json")))]
    target = os.path.join(here, "..", "en-US", "AzureLinuxImage.dll-Help.xml")
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<!-- Generated by tools/maml.py from tools/help/*.json: edit those. -->\n<helpItems schema="maml" xmlns="http://msh">\n')
        f.write("\n".join(blocks))
        f.write("\n</helpItems>\n")
