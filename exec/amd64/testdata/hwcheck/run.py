import subprocess, sys
REGS="rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15".split()
FL={'CF':1,'PF':4,'AF':0x10,'ZF':0x40,'SF':0x80,'OF':0x800}
def pf(s):
    if s=='-': return 0
    v=0
    for p in s.split('|'): v|=FL[p]
    return v
def fs(v):
    r=[k for k,b in FL.items() if v&b]
    return '|'.join(r) or '-'
cases=[];c=None
for line in open(sys.argv[1]):
    line=line.strip()
    if not line or line.startswith('#'): continue
    k,_,v=line.partition(' '); v=v.strip()
    if k=='case':
        c=dict(name=v,init={},imem=[],want={},wmem=[],steps=1,defined=0x8d5,fault=None,branch=None,code=b''); cases.append(c)
    elif k=='bytes': c['code']=bytes.fromhex(v.replace(' ',''))
    elif k in('init','want'):
        for it in v.split():
            a,_,b=it.partition('=')
            if a.startswith('mem:'):
                _,ad,sz=a.split(':'); c['imem' if k=='init' else 'wmem'].append((int(ad,0),int(sz),int(b,0)))
            elif a=='flags': c[k]['flags']=pf(b)
            elif a=='branch': c['branch']=b
            else: c[k][a]=int(b,0)
    elif k=='steps': c['steps']=int(v)
    elif k=='defined': c['defined']=pf(v)
    elif k=='fault': c['fault']=v
lines=[];sel={}
skipped=[]
for c in cases:
    if c['fault'] or c['init'].get('ibt'): skipped.append(c['name']); continue
    end=0x1000+len(c['code'])
    rip=c['want'].get('rip',end)
    if not (0x1000<=rip<0x3000-14) or (0x1000<=rip<end and rip!=end):
        skipped.append(c['name']); continue
    # exit jump must not overlap initialised memory in text
    regs=[c['init'].get(r,0) for r in REGS]
    mems=c['imem']
    parts=[c['name'],c['code'].hex(),hex(rip),hex(c['init'].get('gsbase',0)),hex(c['init'].get('flags',0))]+[hex(x) for x in regs]
    parts+= [str(len(mems))]+[f"{hex(a)} {s} {hex(v)}" for a,s,v in mems]
    parts+= [str(len(c['wmem']))]+[f"{hex(a)} {s}" for a,s,v in c['wmem']]
    lines.append(' '.join(parts)); sel[c['name']]=c
out=subprocess.run(['./hw'],input='\n'.join(lines)+'\n',capture_output=True,text=True).stdout
bad=0;n=0
for l in out.splitlines():
    f=l.split(); c=sel[f[0]]; n+=1
    if f[1]=='CRASH': print('CRASH',f[0]); bad+=1; continue
    vals=[int(x,0) for x in f[1:]]
    errs=[]
    for i,r in enumerate(REGS):
        w=c['want'].get(r,c['init'].get(r,0))
        if vals[i]!=w: errs.append(f"{r}={vals[i]:#x} want {w:#x}")
    fl=vals[16]; d=c['defined']; wf=c['want'].get('flags',c['init'].get('flags',0))
    if fl&d!=wf&d: errs.append(f"flags={fs(fl&d)} want {fs(wf&d)} (hw all: {fs(fl)})")
    for i,(a,s,v) in enumerate(c['wmem']):
        if vals[17+i]!=v: errs.append(f"mem {a:#x}={vals[17+i]:#x} want {v:#x}")
    if errs: bad+=1; print(f[0],'; '.join(errs))
print(f"hardware-checked {n} cases, {bad} disagree; skipped {len(skipped)}: {' '.join(skipped)}")
