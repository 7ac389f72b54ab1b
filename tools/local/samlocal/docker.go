package samlocal

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/childproc"
)

// DockerdArgs are the flags dockerd gets when this package starts it. The functions'
// containers need Docker's bridge and nothing beyond this machine, so dockerd leaves the
// host's firewall alone: without --iptables=false it sets the FORWARD policy to DROP and
// adds a NAT rule that routes containers to the internet. Published ports (SAM reaches
// each container's emulator through one on 127.0.0.1) still work through Docker's
// userland proxy.
func DockerdArgs() []string { return []string{"--iptables=false", "--ip-masq=false"} }

// Engine is the Docker engine SAM runs the functions in.
type Engine struct {
	proc *childproc.Process
}

// ErrNoDocker says why no Docker engine is available; its text names the fix.
var ErrNoDocker = errors.New("no Docker engine")

// Docker returns the Docker engine that answers (the developer's own is used as it is),
// or starts dockerd, which needs root, and waits until it answers. An engine started here
// logs to logw and ends with Stop. progress gets one line saying what was done.
func Docker(ctx context.Context, logw, progress io.Writer) (*Engine, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, fmt.Errorf("%w: the docker command is not installed (`make docker` installs Debian's docker.io)", ErrNoDocker)
	}
	if answers(ctx) == nil {
		return &Engine{}, nil
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return nil, fmt.Errorf("%w: DOCKER_HOST=%s does not answer", ErrNoDocker, h)
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, fmt.Errorf("%w: no Docker engine answers and dockerd is not installed (`make docker` installs Debian's docker.io)", ErrNoDocker)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: no Docker engine answers and only root can start dockerd: start Docker (for example `sudo systemctl start docker`)", ErrNoDocker)
	}
	fmt.Fprintf(progress, "==> starting the Docker daemon (dockerd %s); it stops when this run ends\n", strings.Join(DockerdArgs(), " "))
	p, err := childproc.Start(ctx, "dockerd", exec.Command(dockerd, DockerdArgs()...), logw,
		func() bool { return answers(ctx) == nil }, 60*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: dockerd did not start: %v", ErrNoDocker, err)
	}
	return &Engine{proc: p}, nil
}

// Started reports whether this process started the engine.
func (e *Engine) Started() bool { return e.proc != nil }

// Stop ends the daemon if this process started it; an engine that was running before is
// left alone.
func (e *Engine) Stop() {
	if e.proc != nil {
		e.proc.StopWithin(30 * time.Second) // dockerd first stops what still runs
		e.proc = nil
	}
}

func answers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return docker(ctx, nil, "version", "--format", "{{.Server.Version}}")
}

// docker runs the docker command with stdin; its error has what the command said.
func docker(ctx context.Context, stdin io.Reader, args ...string) error {
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin, cmd.Stderr = stdin, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %v: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// OfficialImage is the image SAM builds its emulator onto for provided.al2023 by default.
func OfficialImage(arch string) string { return "public.ecr.aws/lambda/provided:al2023-" + arch }

// LocalImage is the image imported here when the official one is not on this machine.
const LocalImage = "lifecycle-lambda-base"

// Busybox is Debian's busybox-static, the local base image's only file.
const Busybox = "/bin/busybox"

// BaseImage returns the image SAM builds its emulator onto (`--invoke-image`, with
// `--skip-pull-image`): the official provided.al2023 image when it is on this machine,
// else LocalImage, imported once from a root filesystem holding a static busybox. A Go
// bootstrap needs nothing from the image, and SAM's image build on top of it needs only a
// shell with mv and chmod. Nothing is pulled from a registry.
func (e *Engine) BaseImage(ctx context.Context, arch string, progress io.Writer) (string, error) {
	image := LocalImage + ":" + arch
	for _, img := range []string{OfficialImage(arch), image} {
		if docker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", img) == nil {
			return img, nil
		}
	}
	fmt.Fprintf(progress, "==> importing %s: a root filesystem with %s (busybox-static), for SAM's emulator (first run only)\n", image, Busybox)
	rootfs, err := BaseRootFS(Busybox)
	if err != nil {
		return "", err
	}
	if err := docker(ctx, bytes.NewReader(rootfs), "import", "--platform", "linux/"+goArch(arch), "-", image); err != nil {
		return "", err
	}
	return image, nil
}

// BaseRootFS is the local base image's root filesystem as a tar: busybox (which must be
// statically linked) with links for the commands SAM's image build runs, and the folders
// Lambda's environment has.
func BaseRootFS(busybox string) ([]byte, error) {
	f, err := elf.Open(busybox)
	if err != nil {
		return nil, fmt.Errorf("%s (Debian's busybox-static; `make docker` installs it): %w", busybox, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("%s is dynamically linked; the base image needs busybox-static's", busybox)
		}
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	var headers []*tar.Header
	for _, d := range []string{"bin", "etc", "opt", "var", "var/runtime", "var/task"} {
		headers = append(headers, &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755})
	}
	headers = append(headers, &tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777},
		&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))})
	for _, cmd := range []string{"sh", "mv", "chmod", "cp", "rm", "mkdir", "ls", "cat"} {
		headers = append(headers, &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + cmd, Linkname: "busybox", Mode: 0o777})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(bin[:h.Size]); err != nil { // only busybox has contents
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
