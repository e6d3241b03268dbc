// SPDX-License-Identifier: GPL-2.0-only

package record

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Header is an asciicast v2 header line
// (https://docs.asciinema.org/manual/asciicast/v2/): the terminal size,
// when the recording was made, and how it was made.
type Header struct {
	Version       int               `json:"version"`
	Width         int               `json:"width"`
	Height        int               `json:"height"`
	Timestamp     int64             `json:"timestamp"`
	IdleTimeLimit float64           `json:"idle_time_limit,omitempty"`
	Title         string            `json:"title,omitempty"`
	Env           map[string]string `json:"env"`
}

// Writer writes an asciicast v2 file: the header, then one event per
// line, [time, "o", data], times in seconds from the start, never
// decreasing.
type Writer struct {
	bw   *bufio.Writer
	last time.Duration
	err  error
}

// NewWriter writes h (Version is set to 2).
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Version = 2
	if h.Width <= 0 || h.Height <= 0 {
		return nil, fmt.Errorf("asciicast: terminal size %dx%d", h.Width, h.Height)
	}
	if h.Env == nil {
		h.Env = map[string]string{}
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	cw := &Writer{bw: bufio.NewWriterSize(w, 1<<16)}
	cw.bw.Write(b)
	cw.bw.WriteByte('\n')
	return cw, nil
}

// Output writes an "o" event: data written to the terminal at t.
func (w *Writer) Output(t time.Duration, data string) error {
	if w.err != nil {
		return w.err
	}
	if t < w.last {
		return fmt.Errorf("asciicast: event at %v before the previous one at %v", t, w.last)
	}
	w.last = t
	b, err := json.Marshal(data)
	if err != nil {
		w.err = err
		return err
	}
	line := make([]byte, 0, len(b)+32)
	line = append(line, '[')
	line = strconv.AppendFloat(line, t.Seconds(), 'f', 6, 64)
	line = append(line, `, "o", `...)
	line = append(line, b...)
	line = append(line, ']', '\n')
	_, w.err = w.bw.Write(line)
	return w.err
}

// Close flushes what is buffered.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}
