package samlocal

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// TestLogicalIDsAreTheTemplatesFunctions: every folder of functions/ names its resource in
// template.yaml the way the Makefile's build-<LogicalId> rule reads it back.
func TestLogicalIDsAreTheTemplatesFunctions(t *testing.T) {
	if got := LogicalID("cancel-interview"); got != "CancelInterviewFunction" {
		t.Fatalf("LogicalID(cancel-interview) = %s", got)
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := cfntemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	resources := tpl.Resources("AWS::Serverless::Function")
	fns, err := repo.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		if _, ok := resources[LogicalID(fn)]; !ok {
			t.Errorf("functions/%s: no %s in template.yaml", fn, LogicalID(fn))
		}
	}
	if len(fns) != len(resources) {
		t.Errorf("%d functions, %d function resources", len(fns), len(resources))
	}
}

// elfFile writes a minimal x86-64 ELF executable: static, or asking for a dynamic loader.
func elfFile(t *testing.T, dynamic bool) string {
	t.Helper()
	var b bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	if dynamic {
		h.Phoff, h.Phentsize, h.Phnum = 64, 56, 1
	}
	_ = binary.Write(&b, binary.LittleEndian, h)
	if dynamic {
		_ = binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 120, Filesz: 28, Memsz: 28})
		b.WriteString("/lib64/ld-linux-x86-64.so.2\x00")
	}
	p := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(p, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBaseRootFSHoldsAStaticShell: the local base image is busybox with the commands SAM's
// image build runs linked to it, and Lambda's folders; a dynamically linked busybox, which
// would not run in an otherwise empty image, is refused.
func TestBaseRootFSHoldsAStaticShell(t *testing.T) {
	bin := elfFile(t, false)
	want, _ := os.ReadFile(bin)
	raw, err := BaseRootFS(bin)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		if h.Name == "bin/busybox" {
			got, _ := io.ReadAll(tr)
			if !bytes.Equal(got, want) || h.Mode&0o111 == 0 {
				t.Errorf("bin/busybox: %d bytes, mode %o", len(got), h.Mode)
			}
		}
	}
	for _, cmd := range []string{"sh", "mv", "chmod"} {
		if h := entries["bin/"+cmd]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
			t.Errorf("bin/%s is not a link to busybox: %+v", cmd, h)
		}
	}
	for _, dir := range []string{"tmp/", "var/task/", "var/runtime/", "opt/"} {
		if h := entries[dir]; h == nil || h.Typeflag != tar.TypeDir {
			t.Errorf("no %s folder", dir)
		}
	}
	if entries["tmp/"].Mode != 0o1777 {
		t.Errorf("tmp/ mode %o", entries["tmp/"].Mode)
	}
	if _, err := BaseRootFS(elfFile(t, true)); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("a dynamic busybox: %v", err)
	}
	if _, err := BaseRootFS(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "busybox-static") {
		t.Errorf("a missing busybox: %v", err)
	}
}

// TestArgsUseTheBaseImageWithoutPulling: the local base image goes in --invoke-image; the
// official one is SAM's default. Neither is ever pulled.
func TestArgsUseTheBaseImageWithoutPulling(t *testing.T) {
	l := Local{Root: "/r", Arch: "x86_64", Template: "/r/t.yaml", EnvFile: "/r/env.json", Image: LocalImage + ":x86_64"}
	args := strings.Join(l.Args(), " ")
	for _, want := range []string{"--template /r/t.yaml", "--env-vars /r/env.json", "--parameter-overrides Architecture=x86_64", "--skip-pull-image", "--invoke-image lifecycle-lambda-base:x86_64", "--region " + stack.Region} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	l.Image = OfficialImage("x86_64")
	if args := l.Args(); slices.Contains(args, "--invoke-image") || !slices.Contains(args, "--skip-pull-image") {
		t.Errorf("with the official image: %q", args)
	}
}

// TestEnvHasTheStacksCredentials: whatever the developer's AWS settings, SAM hands the
// functions the stack's key and region (the local stack's tables are under them).
func TestEnvHasTheStacksCredentials(t *testing.T) {
	t.Setenv("AWS_PROFILE", "prod")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	t.Setenv("SAM_CLI_TELEMETRY", "1")
	got := map[string]string{}
	for _, kv := range Env() {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	if got["AWS_ACCESS_KEY_ID"] != stack.AccessKey || got["AWS_DEFAULT_REGION"] != stack.Region || got["AWS_PROFILE"] != "" || got["SAM_CLI_TELEMETRY"] != "0" {
		t.Fatalf("env %v", got)
	}
}

// TestContainerIDsFromSAMsOutput: the ids of the containers SAM starts are read from its
// log lines however the output is split.
func TestContainerIDsFromSAMsOutput(t *testing.T) {
	out := "Mounting /x as /var/task\nSAM_CONTAINER_ID: abc123\nSTART RequestId: 1\n2026 | SAM_CONTAINER_ID: def456\n"
	c := &containerIDs{}
	for i := 0; i < len(out); i += 7 {
		if _, err := c.Write([]byte(out[i:min(i+7, len(out))])); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(c.ids, []string{"abc123", "def456"}) {
		t.Fatalf("ids %q", c.ids)
	}
}

// TestEnvFileIsSAMsFormat: variables under each function's logical id or "Parameters".
func TestEnvFileIsSAMsFormat(t *testing.T) {
	b := &Bridge{DynamoDB: "http://172.17.0.1:1", Moto: "http://172.17.0.1:2"}
	path := filepath.Join(t.TempDir(), "sub", "env.json")
	vars, err := b.Vars(stack.Info{Table: "t", AuditTable: "a", Bus: "bus", LiveTable: "l"})
	if err != nil {
		t.Fatal(err)
	}
	if err := (EnvFile{ForEveryFunction: vars}).Write(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var got map[string]map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	p := got["Parameters"]
	if p["AWS_ENDPOINT_URL_DYNAMODB"] != b.DynamoDB || p["AWS_ENDPOINT_URL_EVENTBRIDGE"] != b.Moto || p["TABLE_NAME"] != "t" ||
		p["AUDIT_TABLE_NAME"] != "a" || p["EVENT_BUS_NAME"] != "bus" || p["LIVE_TABLE_NAME"] != "l" {
		t.Fatalf("env file %s", raw)
	}
	if _, set := p["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"]; set {
		t.Fatalf("a stack without a live channel got an @connections endpoint: %s", raw)
	}
}

// TestVarsRelayTheConnectionsEndpoint: a stack's @connections endpoint, on loopback, is
// relayed once and named in the variables; another stack's gets its own relay, which
// passes the Host header the function signed through.
func TestVarsRelayTheConnectionsEndpoint(t *testing.T) {
	b := &Bridge{ip: "127.0.0.1", relayed: map[string]string{}}
	defer b.Close()
	endpoint := func(name string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name, " ", r.Host) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	one, two := endpoint("one"), endpoint("two")
	var got []string
	for _, target := range []string{one, two, one} {
		vars, err := b.Vars(stack.Info{Connections: target})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, vars["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"])
	}
	if got[0] == "" || got[0] == one || got[0] == got[1] || got[0] != got[2] {
		t.Fatalf("relays %q for %s, %s, %s", got, one, two, one)
	}
	for i, want := range []string{"one", "two"} {
		resp, err := http.Get(got[i])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want += " " + strings.TrimPrefix(got[i], "http://"); string(body) != want {
			t.Errorf("relay %s answered %q, want %q", got[i], body, want)
		}
	}
}
