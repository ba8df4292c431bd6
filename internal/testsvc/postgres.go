package testsvc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a PostgreSQL server on loopback, its cluster in a folder of
// its own, trusting local connections (a test server: nothing else can
// reach loopback here).
type Postgres struct {
	*Process
	Dir  string
	Port int
	// Superuser is the role initdb made.
	Superuser string
}

// StartPostgres makes a database cluster in a new folder under parent
// ("" = the system's temporary folder) and starts a server on loopback
// port port (0 = a free one), durability off (fsync, synchronous commit: a test
// server). PostgreSQL refuses to run as root; as root it runs as the
// "postgres" user the Debian package creates, the folder is made theirs
// and parent is made traversable (o+x) for them.
func StartPostgres(ctx context.Context, parent string, port int, log io.Writer) (*Postgres, error) {
	postgres, err := Find("postgres")
	if err != nil {
		return nil, err
	}
	initdb, err := Find("initdb")
	if err != nil {
		return nil, err
	}
	if parent != "" && os.Geteuid() == 0 {
		// The postgres user must be able to reach its folder.
		if st, err := os.Stat(parent); err == nil {
			_ = os.Chmod(parent, st.Mode().Perm()|0o011)
		}
	}
	dir, err := os.MkdirTemp(parent, "pg-")
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	init := exec.CommandContext(ctx, initdb, "-D", data, "-U", "mediaserver", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	init.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testsvc: initdb: %v\n%s", err, out)
	}
	if port == 0 {
		if port, err = FreePort("tcp"); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(postgres, "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGINT is PostgreSQL's fast shutdown: sessions end, no wait.
	p, err := start("postgres", cmd, log, syscall.SIGINT)
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Process: p, Dir: dir, Port: port, Superuser: "mediaserver"}
	if err := pg.wait(ctx); err != nil {
		p.Kill()
		return nil, err
	}
	return pg, nil
}

// postgresCredential is the user the server runs as: the current one,
// or "postgres" for root (dir is handed to them).
func postgresCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testsvc: PostgreSQL does not run as root and there is no postgres user (apt-get install postgresql): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// URL is the connection URL of database db.
func (pg *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pg.Superuser, pg.Port, db)
}

func (pg *Postgres) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, pg.URL("postgres"))
		if err == nil {
			c.Close(ctx)
			return nil
		}
		if done, perr := pg.Exited(); done {
			return fmt.Errorf("testsvc: postgres exited: %v (last connect error: %v)", perr, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testsvc: postgres does not answer on port %d: %w", pg.Port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// CreateDatabase makes an empty database and returns its URL.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	c, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("testsvc: create database %s: %w", name, err)
	}
	return pg.URL(name), nil
}

// Remove stops the server and deletes its folder.
func (pg *Postgres) Remove() {
	pg.Stop(10 * time.Second)
	_ = os.RemoveAll(pg.Dir)
}
