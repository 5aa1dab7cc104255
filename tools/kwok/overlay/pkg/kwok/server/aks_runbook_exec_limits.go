// Added by aks-runbook at build time (see lib/aks_runbook/targets/binaries.py, KWOK_OVERLAY):
// ExecInContainer in debugging_exec.go takes a slot of its namespace first, and runs the
// command under a context that ends when the stream to the client closes.

package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// AKS_RUNBOOK_EXEC_CONCURRENT, when set, is how many execs may run at once in one namespace.
const aksRunbookExecConcurrentEnv = "AKS_RUNBOOK_EXEC_CONCURRENT"

var (
	aksRunbookSlotsMu sync.Mutex
	aksRunbookSlots   = map[string]int{}
)

// aksRunbookExecSlot takes one of the namespace's exec slots, or says that none is free.
func aksRunbookExecSlot(namespace string) (func(), error) {
	raw, set := os.LookupEnv(aksRunbookExecConcurrentEnv)
	if !set {
		return func() {}, nil
	}
	limit, err := strconv.Atoi(raw)
	if err != nil || limit < 1 {
		return nil, fmt.Errorf("kwok: %s=%q is not a positive number", aksRunbookExecConcurrentEnv, raw)
	}
	aksRunbookSlotsMu.Lock()
	defer aksRunbookSlotsMu.Unlock()
	if aksRunbookSlots[namespace] >= limit {
		return nil, fmt.Errorf("too many execs at once in namespace %s: at most %d run at the same time, try again when one has finished", namespace, limit)
	}
	aksRunbookSlots[namespace]++
	return func() {
		aksRunbookSlotsMu.Lock()
		defer aksRunbookSlotsMu.Unlock()
		aksRunbookSlots[namespace]--
		if aksRunbookSlots[namespace] == 0 {
			delete(aksRunbookSlots, namespace)
		}
	}, nil
}

// aksRunbookUntilStreamCloses returns a context cancelled when a write to the client's stream
// fails: an empty write every second notices a client that went away (the request's own
// context does not end with a hijacked connection), and cancelling kills the command.
func aksRunbookUntilStreamCloses(ctx context.Context, streams ...io.Writer) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	var alive []io.Writer
	for _, stream := range streams {
		if stream != nil {
			alive = append(alive, stream)
		}
	}
	if len(alive) == 0 {
		return ctx, cancel
	}
	go func() {
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				for _, stream := range alive {
					if _, err := stream.Write(nil); err != nil {
						cancel()
						return
					}
				}
			}
		}
	}()
	return ctx, cancel
}
