package businesshours_test

import (
	"fmt"
	"log"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk/businesshours"
)

func Example() {
	cal, err := businesshours.Parse("Mon-Fri 09:00-17:00", "America/New_York", []string{"2026-12-25"})
	if err != nil {
		log.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		log.Fatal(err)
	}
	// Clocks spring forward on Sunday 2026-03-08; business hours do not care.
	created := time.Date(2026, 3, 6, 16, 0, 0, 0, ny)
	solved := time.Date(2026, 3, 9, 10, 0, 0, 0, ny)
	fmt.Println(cal)
	fmt.Println(cal.Between(created, solved))
	fmt.Println(cal.Add(created, 4*time.Hour).Format(time.RFC3339))
	// Output:
	// Mon-Fri 09:00-17:00 (America/New_York)
	// 2h0m0s
	// 2026-03-09T12:00:00-04:00
}
