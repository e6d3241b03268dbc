// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/jitscope/jitscope/gen"
)

// shortCases are documents where the locator's multi-line strings and
// TOML's may not be the same, or whose text TOML changes.
var shortCases = []string{
	"a = \"\"\"\nx\ny\n\"\"\"\n",
	"a = '''\nx\\n\ny\n'''\n",
	"a = \"\"\"x\\ny\"\"\"\n",
	"a = \"\"\"\\\n  x\"\"\"\n",
	"a = \"\"\"\r\nx\r\n\"\"\"\n",
	"a = \"\"\"x\"\"\"\"\n",
	"a = \"\"\"x\"\"\"\"\"\n",
	"a = \"\"\"\"x\"\"\"\n",
	"a = \"\"\"\"\"\"\n",
	"a = ''''''\n",
	"# a = \"\"\"\nb = 1\n# \"\"\"\n",
	"a = 'x\"\"\"' # \"\"\"\nb = \"\"\"\ny\n\"\"\"\n",
	"a = '''\n\"\"\"\n'''\nb = \"\"\"\n'''\n\"\"\"\n",
	"d = \"\"\"\nasm = \"\"\"\nexit\n\"\"\"\n",
	"d = \"\"\"\nasm = '''\nexit\n\"\"\"\nb = '''\n",
	"a = { b = [ { c = \"\"\"\nx\"\"\" } ] }\n",
	"a = [\"\"\"\nx\n\"\"\", '''\ny\n''']\n",
	"[[t]]\na = \"\"\"\nx\n\"\"\"\n[[t]]\na = \"\"\"\nx\n\"\"\"\n",
	"a = \"\"\"\nx\n\"\"\"\na = \"\"\"\ny\n\"\"\"\n",
	"a = \"\"\"\nx\ty\u00e9\n\"\"\"\nb = \"\\u0041\"\n",
	"a = \"\"\"\nx\x01\n\"\"\"\n",
	"a = \"\"\"\nx\x7f\n\"\"\"\n",
	"a = \"\"\"\nx\n\"\"\" b = 1\n",
	"a = \"\"\"\nx\n",
	"a = \"\"\"\njitscope-scn-block-0-\n\"\"\"\n",
	"a = \"\"\"jitscope-scn-block-0-\"\"\"\nb = \"\"\"\nx\n\"\"\"\n",
}

// checkShort holds decodeShort to toml.Decode on src: when it succeeds,
// the decoder accepts src and gives the same document.
func checkShort(t *testing.T, name, src string) bool {
	t.Helper()
	short, ok := decodeShort(src, locate(src))
	var raw map[string]any
	_, err := toml.Decode(src, &raw)
	if ok && (err != nil || !reflect.DeepEqual(short, raw)) {
		t.Errorf("%s: decodeShort gives %v, toml.Decode %v (%v)", name, short, raw, err)
	}
	return ok
}

func TestDecodeShortMatchesTOML(t *testing.T) {
	defer func(m int) { shortMin = m }(shortMin)
	shortMin = 0
	for i, c := range shortCases {
		checkShort(t, "case "+string(rune('A'+i)), c)
	}
	n, fast := 0, 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".scn") && !strings.HasSuffix(path, ".toml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, src := range []string{string(data), strings.ReplaceAll(string(data), "\n", "\r\n")} {
			n++
			if checkShort(t, path, src) {
				fast++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range builtinNames() {
		src, err := Show(name)
		if err != nil {
			t.Fatal(err)
		}
		if !checkShort(t, name, string(src)) {
			t.Errorf("builtin %s: its asm was not set aside", name)
		}
	}
	t.Logf("%d files, %d decoded with their strings set aside", n, fast)
}

// A generated program's asm is set aside at the default size limit.
func TestDecodeShortGenerated(t *testing.T) {
	src, err := gen.Scenario(gen.Options{Insns: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if !checkShort(t, "gen", string(src)) {
		t.Error("the generated program's asm was not set aside")
	}
}

func FuzzDecodeShort(f *testing.F) {
	for _, c := range shortCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer func(m int) { shortMin = m }(shortMin)
		shortMin = 0
		if !utf8.Valid(data) {
			return // decode refuses it first
		}
		checkShort(t, "fuzz", string(data))
	})
}
