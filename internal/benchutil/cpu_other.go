// SPDX-License-Identifier: GPL-2.0-only

//go:build !unix

package benchutil

import "time"

func processCPU() time.Duration { return -1 }
