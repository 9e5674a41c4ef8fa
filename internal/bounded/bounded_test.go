package bounded

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ended, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel2()
		time.Sleep(time.Millisecond) // fake clock: ended's deadline passes
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, c := range []struct {
			name string
			ctx  context.Context
			max  time.Duration
			want time.Duration
		}{
			{"no deadline: max", context.Background(), 500 * time.Millisecond, 500 * time.Millisecond},
			{"far deadline: max", ctx, 500 * time.Millisecond, 500 * time.Millisecond},
			{"near deadline: half the time left", ctx, 5 * time.Second, time.Second},
			{"deadline passed: none", ended, time.Second, 0},
		} {
			if got := Budget(c.ctx, c.max); got != c.want {
				t.Errorf("%s: Budget = %v, want %v", c.name, got, c.want)
			}
		}
	})
}

func TestDo(t *testing.T) {
	t.Parallel()
	errF := errors.New("from f")
	for _, c := range []struct {
		name      string
		f         func(ctx context.Context, release <-chan struct{}) (int, error)
		cancel    bool // the caller's context is canceled after 10ms
		want      int
		wantErr   error
		wantTaken time.Duration
	}{
		{"f answers in time", func(context.Context, <-chan struct{}) (int, error) { return 7, nil }, false, 7, nil, 0},
		{"f fails in time", func(context.Context, <-chan struct{}) (int, error) { return 0, errF }, false, 0, errF, 0},
		{"f ignores its context: the budget ends the wait", func(_ context.Context, release <-chan struct{}) (int, error) {
			<-release // a go-redis read without ContextTimeoutEnabled
			return 7, nil
		}, false, 0, context.DeadlineExceeded, 100 * time.Millisecond},
		{"f honours its context", func(ctx context.Context, _ <-chan struct{}) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		}, false, 0, context.DeadlineExceeded, 100 * time.Millisecond},
		{"the caller cancels: its error", func(_ context.Context, release <-chan struct{}) (int, error) {
			<-release
			return 7, nil
		}, true, 0, context.Canceled, 10 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if c.cancel {
					time.AfterFunc(10*time.Millisecond, cancel)
				}
				release := make(chan struct{})
				start := time.Now()
				got, err := Do(ctx, 100*time.Millisecond, func(ctx context.Context) (int, error) { return c.f(ctx, release) })
				taken := time.Since(start)
				close(release) // the abandoned f returns; synctest checks it does
				if got != c.want || !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
					t.Errorf("Do = %v, %v; want %v, %v", got, err, c.want, c.wantErr)
				}
				if taken != c.wantTaken {
					t.Errorf("Do took %v of the fake clock, want %v", taken, c.wantTaken)
				}
			})
		})
	}
	t.Run("no time left: f is not called", func(t *testing.T) {
		t.Parallel()
		_, err := Do(context.Background(), 0, func(context.Context) (int, error) { t.Error("called"); return 0, nil })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Do(ctx, time.Second, func(context.Context) (int, error) { t.Error("called"); return 0, nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
}
