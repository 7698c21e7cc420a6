#!/usr/bin/env python3
"""Write the small simulated DL0 run used by the DL0-to-DL1 examples.

The output depends only on the seed below and the Python version, so the
committed files can be regenerated with:

    python3 examples/tools/make-dl0-data.py examples/data
    npx prettier --write examples/data/camera-calibration_obs101_tel001.json

It writes two files into the target folder:

- ``gamma_obs101_tel001.dl0``: camera waveforms of 12 gamma-ray events seen by
  one telescope with a 91-pixel hexagonal camera, in the format below;
- ``camera-calibration_obs101_tel001.json``: per-pixel pedestals and gains, as
  a camera calibration would measure them (the true values plus measurement
  noise), in place of ctapipe's HDF5 monitoring file.

Waveform file format (all numbers little-endian):

- 8 bytes magic ``b"WAVEDL0\n"``;
- uint32 length N of the header, then N bytes of UTF-8 JSON (camera geometry,
  sampling, nominal pedestal and gain, number of events, simulation settings);
- per event: uint32 event_id, float32 true energy (TeV), float32 true core x
  and y (m), then n_pixels * n_samples uint16 ADC counts, pixel after pixel.

The shower images are elliptical Gaussians whose brightness grows with energy
and falls with impact distance, a rough model chosen to give images of a few
to a few tens of pixels, not a physical simulation.
"""

import json
import math
import random
import struct
import sys
from pathlib import Path

MAGIC = b"WAVEDL0\n"
EVENT_HEADER = struct.Struct("<Ifff")

OBS_ID = 101
TEL_ID = 1
SEED = 20260101
N_EVENTS = 12
N_RINGS = 5  # 1 + 3 * 5 * 6 = 91 hexagonal pixels
PIXEL_PITCH_M = 0.04
N_SAMPLES = 16
SAMPLE_WIDTH_NS = 1.0
NOMINAL_PEDESTAL_ADC = 200.0
# Integrated ADC counts of one photoelectron pulse (its area, not its height).
NOMINAL_ADC_PER_PE = 40.0
PULSE_SIGMA_SAMPLES = 1.2
ELECTRONIC_NOISE_ADC = 3.0
NSB_PE_PER_PIXEL = 0.4
ADC_MAX = 4095  # 12-bit digitiser
ENERGY_RANGE_TEV = (0.1, 30.0)
SPECTRAL_INDEX = 2.0
MAX_IMPACT_M = 400.0


def hexagonal_pixels(n_rings, pitch):
    """Return the (x, y) centres in metres of a hexagonal camera with n_rings rings."""
    pixels = []
    for q in range(-n_rings, n_rings + 1):
        for r in range(max(-n_rings, -q - n_rings), min(n_rings, -q + n_rings) + 1):
            x = pitch * (q + r / 2.0)
            y = pitch * r * math.sqrt(3.0) / 2.0
            pixels.append((round(x, 6), round(y, 6)))
    pixels.sort(key=lambda p: (round(math.hypot(*p), 6), math.atan2(p[1], p[0])))
    return pixels


def draw_power_law(rng, e_min, e_max, index):
    """Draw one energy from dN/dE proportional to E**-index on [e_min, e_max]."""
    u = rng.random()
    if abs(index - 1.0) < 1e-9:
        return e_min * (e_max / e_min) ** u
    s = 1.0 - index
    return (e_min**s + u * (e_max**s - e_min**s)) ** (1.0 / s)


def draw_poisson(rng, mean):
    """Draw a Poisson number (Knuth's method below 30, a rounded normal above)."""
    if mean <= 0.0:
        return 0
    if mean > 30.0:
        return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def shower_image(rng, pixels, energy_tev, core_x, core_y):
    """Return expected p.e. per pixel, time slope along the axis, axis angle and image centre."""
    impact = math.hypot(core_x, core_y)
    intensity = 2500.0 * energy_tev * math.exp(-impact / 350.0)
    cog_distance = 0.15 * impact / MAX_IMPACT_M + rng.uniform(0.0, 0.03)
    cog_angle = rng.uniform(-math.pi, math.pi)
    cog_x, cog_y = cog_distance * math.cos(cog_angle), cog_distance * math.sin(cog_angle)
    psi = cog_angle + rng.gauss(0.0, 0.1)
    length = 0.06 + 0.03 * math.log10(energy_tev / ENERGY_RANGE_TEV[0] + 1.0)
    width = length * rng.uniform(0.25, 0.4)
    pixel_area = PIXEL_PITCH_M**2 * math.sqrt(3.0) / 2.0

    expected = []
    for x, y in pixels:
        dx, dy = x - cog_x, y - cog_y
        along = dx * math.cos(psi) + dy * math.sin(psi)
        across = -dx * math.sin(psi) + dy * math.cos(psi)
        density = math.exp(-0.5 * ((along / length) ** 2 + (across / width) ** 2))
        density /= 2.0 * math.pi * length * width
        expected.append(intensity * density * pixel_area)
    time_slope = 20.0 * (impact / MAX_IMPACT_M)  # samples per metre along the axis
    return expected, time_slope, psi, (cog_x, cog_y)


def waveform(rng, n_pe, peak_sample, pedestal, adc_per_pe):
    """Return the digitised samples of one pixel with n_pe signal photoelectrons."""
    height_per_pe = adc_per_pe / (PULSE_SIGMA_SAMPLES * math.sqrt(2.0 * math.pi))
    arrivals = [rng.gauss(peak_sample, 0.3) for _ in range(n_pe)]
    arrivals += [rng.uniform(0.0, N_SAMPLES) for _ in range(draw_poisson(rng, NSB_PE_PER_PIXEL))]
    samples = []
    for t in range(N_SAMPLES):
        value = pedestal + rng.gauss(0.0, ELECTRONIC_NOISE_ADC)
        for arrival in arrivals:
            value += height_per_pe * math.exp(-0.5 * ((t - arrival) / PULSE_SIGMA_SAMPLES) ** 2)
        samples.append(min(ADC_MAX, max(0, int(round(value)))))
    return samples


def simulate_event(rng, pixels, pedestals, gains):
    """Return (true energy, core x, core y, flat list of ADC samples) of one event."""
    energy = draw_power_law(rng, *ENERGY_RANGE_TEV, SPECTRAL_INDEX)
    radius = MAX_IMPACT_M * math.sqrt(rng.random())
    angle = rng.uniform(-math.pi, math.pi)
    core_x, core_y = radius * math.cos(angle), radius * math.sin(angle)
    expected, time_slope, psi, (cog_x, cog_y) = shower_image(rng, pixels, energy, core_x, core_y)

    samples = []
    for pixel_id, (x, y) in enumerate(pixels):
        along = (x - cog_x) * math.cos(psi) + (y - cog_y) * math.sin(psi)
        peak = 7.0 + time_slope * along
        n_pe = draw_poisson(rng, expected[pixel_id])
        samples += waveform(rng, n_pe, peak, pedestals[pixel_id], gains[pixel_id])
    return energy, core_x, core_y, samples


def write_run(folder):
    """Write the waveform file and the calibration file into folder."""
    rng = random.Random(SEED)
    pixels = hexagonal_pixels(N_RINGS, PIXEL_PITCH_M)
    pedestals = [NOMINAL_PEDESTAL_ADC + rng.gauss(0.0, 15.0) for _ in pixels]
    gains = [NOMINAL_ADC_PER_PE * rng.gauss(1.0, 0.08) for _ in pixels]
    header = {
        "format": "WAVEDL0",
        "format_version": 1,
        "obs_id": OBS_ID,
        "tel_id": TEL_ID,
        "camera": {
            "name": "HexCam91",
            "pixel_x_m": [x for x, _ in pixels],
            "pixel_y_m": [y for _, y in pixels],
            "pixel_pitch_m": PIXEL_PITCH_M,
        },
        "n_samples": N_SAMPLES,
        "sample_width_ns": SAMPLE_WIDTH_NS,
        "nominal_pedestal_adc": NOMINAL_PEDESTAL_ADC,
        "nominal_adc_per_pe": NOMINAL_ADC_PER_PE,
        "n_events": N_EVENTS,
        "simulation": {
            "primary": "gamma",
            "seed": SEED,
            "energy_range_tev": list(ENERGY_RANGE_TEV),
            "spectral_index": SPECTRAL_INDEX,
            "max_impact_m": MAX_IMPACT_M,
        },
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    sample_format = struct.Struct(f"<{len(pixels) * N_SAMPLES}H")

    folder.mkdir(parents=True, exist_ok=True)
    waveform_path = folder / f"gamma_obs{OBS_ID}_tel{TEL_ID:03d}.dl0"
    with waveform_path.open("wb") as stream:
        stream.write(MAGIC)
        stream.write(struct.pack("<I", len(header_bytes)))
        stream.write(header_bytes)
        for event_id in range(1, N_EVENTS + 1):
            energy, core_x, core_y, samples = simulate_event(rng, pixels, pedestals, gains)
            stream.write(EVENT_HEADER.pack(event_id, energy, core_x, core_y))
            stream.write(sample_format.pack(*samples))

    calibration = {
        "obs_id": OBS_ID,
        "tel_id": TEL_ID,
        "pedestal_adc": [round(p + rng.gauss(0.0, 0.5), 2) for p in pedestals],
        "adc_per_pe": [round(g * rng.gauss(1.0, 0.01), 3) for g in gains],
    }
    calibration_path = folder / f"camera-calibration_obs{OBS_ID}_tel{TEL_ID:03d}.json"
    calibration_path.write_text(json.dumps(calibration, indent=1) + "\n")
    return waveform_path, calibration_path


def main(argv):
    if len(argv) != 2:
        print("usage: make-dl0-data.py OUTPUT_FOLDER", file=sys.stderr)
        return 2
    for path in write_run(Path(argv[1])):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
