#!/usr/bin/env python3
# Draws docs/img/virtualization-demo.svg, the topology ./chio demo runs (docs/virtualization.md):
# two hosts on a link; on each a hypervisor with the PF driver's manager, two VMs with a VF each,
# the root complex with its IOMMU, and the adapter. Run from anywhere: python3 virtualization_demo_svg.py
import os

W, H = 960, 540
out = []


def rect(x, y, w, h, fill, stroke="#333", rx=6):
    out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}" '
               f'stroke="{stroke}" stroke-width="1.5"/>')


def text(x, y, s, size=13, weight="normal", anchor="middle", fill="#111"):
    out.append(f'<text x="{x}" y="{y}" font-family="DejaVu Sans, Arial, sans-serif" '
               f'font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
               f'fill="{fill}">{s}</text>')


def line(x1, y1, x2, y2, color, width=2, dash=None, arrow=None):
    d = f' stroke-dasharray="{dash}"' if dash else ""
    a = f' marker-end="url(#{arrow})"' if arrow else ""
    out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" '
               f'stroke-width="{width}"{d}{a}/>')


# The demo's file: testbenches/configs/two_hosts_four_vms.json.
HOSTS = [("host0", [("web", "VF 0 = fn 1", ["weight 1, cap 10 Gb/s", "QP 0 limit 2.5 Gb/s"]),
                    ("db", "VF 1 = fn 2", ["weight 3"])]),
         ("host1", [("web-peer", "VF 0 = fn 1", ["weight 1"]),
                    ("db-peer", "VF 1 = fn 2", ["weight 3"])])]

for i, (hname, vms) in enumerate(HOSTS):
    x0 = 20 + i * 500
    rect(x0, 20, 420, 500, "#f6f8fa")
    text(x0 + 210, 42, hname, 16, "bold")
    for k, (vm, vf, qos) in enumerate(vms):
        vx = x0 + 15 + k * 200
        rect(vx, 60, 190, 130, "#e3f2fd", "#1565c0")
        text(vx + 95, 80, f'VM "{vm}"', 14, "bold")
        text(vx + 95, 100, "verbs (cAPI) + driver", 12)
        text(vx + 95, 118, "guest bus, GPAs", 12)
        text(vx + 95, 140, vf, 12, "bold", fill="#1565c0")
        for n, q in enumerate(qos):
            text(vx + 95, 160 + 15 * n, q, 11, fill="#555")
    # The hypervisor and the PF manager: control only, beside the data path.
    rect(x0 + 15, 205, 160, 95, "#fff3e0", "#e65100")
    text(x0 + 95, 224, "hypervisor", 13, "bold")
    text(x0 + 95, 240, "create_vm, assign", 11)
    text(x0 + 95, 258, "PF driver + manager", 12, "bold")
    text(x0 + 95, 274, "enable_vfs, set_quota,", 11)
    text(x0 + 95, 290, "set_address, set_*_qos", 11)
    rect(x0 + 15, 315, 390, 36, "#ede7f6", "#4527a0")
    text(x0 + 210, 338, "root complex + IOMMU: one domain per VM (GPA → host)", 11, "bold")
    rect(x0 + 15, 365, 390, 140, "#e8f5e9", "#2e7d32")
    text(x0 + 210, 385, "chio adapter", 14, "bold")
    for k, fn in enumerate(["fn 0: PF", "fn 1: VF 0", "fn 2: VF 1"]):
        rect(x0 + 30 + k * 125, 398, 110, 36, "#c8e6c9", "#2e7d32", 4)
        text(x0 + 85 + k * 125, 421, fn, 12)
    text(x0 + 210, 458, "ownership checks · eSwitch (MAC/GID, spoof check)", 11)
    text(x0 + 210, 476, "QoS: VF weights and caps, QP rate limits", 11)
    text(x0 + 210, 494, "per-VF statistics", 11)
    # Data path: each VM straight to its VF (MMIO down, DMA up through the IOMMU).
    line(x0 + 195, 190, x0 + 210, 398, "#1565c0", dash="6,3", arrow="blue")
    line(x0 + 335, 190, x0 + 335, 398, "#1565c0", dash="6,3", arrow="blue")
    line(x0 + 85, 300, x0 + 85, 398, "#e65100", arrow="orange")

line(420, 452, 520, 452, "#000", 4)
text(470, 442, "link", 13, "bold")
text(470, 472, "RoCEv2", 11)
text(480, 536, "dashed blue: each VM drives its VF directly (MMIO; DMA translated by the IOMMU), "
     "the hypervisor is not on the data path · orange: the PF manager's commands", 11,
     fill="#333")

svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 5}" '
       f'viewBox="0 0 {W} {H + 5}">', '<defs>']
for name, color in (("blue", "#1565c0"), ("orange", "#e65100")):
    svg.append(f'<marker id="{name}" markerWidth="8" markerHeight="8" refX="6" refY="3" '
               f'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="{color}"/></marker>')
svg += ['</defs>', f'<rect width="{W}" height="{H + 5}" fill="white"/>'] + out + ['</svg>']
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "virtualization-demo.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
