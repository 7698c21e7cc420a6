cwlVersion: v1.2
class: Workflow
label: Simulate and analyse air showers
doc: |
  Simulates one run of air showers per seed (scattered, so the runs can go in
  parallel), then analyses all runs together: energy histogram and fitted
  spectral index. The tools are simulate-showers.cwl and analyse-events.cwl,
  found beside this document.

requirements:
  ScatterFeatureRequirement: {}

inputs:
  seeds:
    type: int[]
    doc: One simulation run per seed; give distinct seeds.
  events_per_run:
    type: int
    doc: Number of showers in each run.
  spectral_index:
    type: double
    default: 2.0
    doc: Index of the simulated power-law spectrum dN/dE ~ E^-index.
  n_bins:
    type: int
    default: 10
    doc: Number of logarithmic energy bins of the histogram.

outputs:
  event_files:
    type: File[]
    doc: One event file per seed.
    outputSource: simulate/events
  summary:
    type: File
    doc: JSON summary of all runs.
    outputSource: analyse/summary
  report:
    type: File
    doc: Short text report of the analysis.
    outputSource: analyse/report

steps:
  simulate:
    run: simulate-showers.cwl
    scatter: seed
    in:
      seed: seeds
      n_events: events_per_run
      spectral_index: spectral_index
    out: [events]

  analyse:
    run: analyse-events.cwl
    in:
      event_files: simulate/events
      n_bins: n_bins
    out: [summary, report]
