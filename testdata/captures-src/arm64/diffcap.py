#!/usr/bin/env python3
"""diffcap.py CAPTURE_DIR: jitscope vs kernel, per function: first differing
word, disassembly of both sides around it (objdump), and the BPF insn the word
belongs to (jitscope's per-insn offsets are unknown: we use the kernel's
jited_line_info when present, else report the byte offset)."""
import json, subprocess, sys, os, tempfile
d = sys.argv[1]
ctx = int(sys.argv[2]) if len(sys.argv) > 2 else 6
cap = json.load(open(os.path.join(d, 'capture.json')))
kimg = open(os.path.join(d, 'jited.bin'), 'rb').read()
out = subprocess.run([os.environ.get('JITSCOPE', '/tmp/jitscope-gt'), 'dump', d, '--arch', 'arm64', '--profile', 'v6.1', '--format', 'json'],
                     capture_output=True, text=True)
if out.returncode:
    print('jitscope failed:', out.stderr.strip()); sys.exit(1)
js = json.loads(out.stdout)['programs'][0]['functions']
def dis(b, base):
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        f.write(b)
    r = subprocess.run(['aarch64-linux-gnu-objdump', '-D', '-b', 'binary', '-m', 'aarch64', '--adjust-vma=%d' % base, f.name],
                       capture_output=True, text=True).stdout
    os.unlink(f.name)
    return [l for l in r.splitlines() if l.strip().endswith(':') is False and ':\t' in l]
for i, f in enumerate(cap['functions']):
    k = kimg[f['jited_offset']:f['jited_offset'] + f['jited_len']]
    j = bytes.fromhex(js[i]['bytes'])
    if j == k:
        print('%s: identical (%d bytes)' % (f['name'], len(k))); continue
    n = next((x for x in range(0, min(len(j), len(k)), 4) if j[x:x+4] != k[x:x+4]), min(len(j), len(k)))
    print('%s: DIFFERS at +0x%x (jitscope %d bytes, kernel %d bytes)' % (f['name'], n, len(j), len(k)))
    lo = max(0, n - 4 * ctx)
    # BPF insn: last line_info entry with offset <= n (kernel side)
    li = [x for x in f.get('line_info') or [] if x.get('offset') is not None and x['offset'] <= n]
    if li:
        print('  kernel line_info: nearest insn %d at +0x%x (line %s)' % (li[-1]['insn'], li[-1]['offset'], li[-1].get('line')))
    for name, b in (('jitscope', j), ('kernel', k)):
        print('  --- %s' % name)
        for l in dis(b[lo:n + 4 * ctx], lo):
            off = int(l.split(':')[0].strip(), 16)
            print('   %s %s' % ('>>' if off == n else '  ', l.strip()))
