"""Tests of the ctapipe-process stand-in, run as a real process on real files.

Run from the repository root with:

    python3 -m unittest discover -s examples/tests -v
"""

import hashlib
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent
SCRIPT = EXAMPLES / "bin" / "ctapipe-process"
DATA = EXAMPLES / "data"
DL0 = DATA / "gamma_obs101_tel001.dl0"
CALIBRATION = DATA / "camera-calibration_obs101_tel001.json"
CONFIG = DATA / "process-dl0-dl1.json"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_records(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def write_line_image_run(path, pitch=0.1, gain=10.0, pedestal=100.0, charge_pe=50.0):
    """Write a 7-pixel camera run with one event lit in three pixels along the x axis."""
    xs = [0.0] + [pitch * math.cos(math.radians(60 * k)) for k in range(6)]
    ys = [0.0] + [pitch * math.sin(math.radians(60 * k)) for k in range(6)]
    header = {
        "format": "WAVEDL0",
        "format_version": 1,
        "obs_id": 1,
        "tel_id": 4,
        "camera": {"name": "Hex7", "pixel_x_m": xs, "pixel_y_m": ys, "pixel_pitch_m": pitch},
        "n_samples": 10,
        "sample_width_ns": 2.0,
        "nominal_pedestal_adc": pedestal,
        "nominal_adc_per_pe": gain,
        "n_events": 1,
    }
    lit = {0, 1, 4}  # the centre and the pixels at 0 and 180 degrees
    samples = []
    for pixel in range(7):
        waveform = [int(pedestal)] * 10
        if pixel in lit:
            waveform[5] += int(charge_pe * gain)
        samples += waveform
    header_bytes = json.dumps(header).encode()
    with open(path, "wb") as stream:
        stream.write(b"WAVEDL0\n" + struct.pack("<I", len(header_bytes)) + header_bytes)
        stream.write(struct.pack("<Ifff", 7, 1.5, 10.0, -20.0))
        stream.write(struct.pack(f"<{len(samples)}H", *samples))


class StandInTest(unittest.TestCase):
    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="ctapipe-process-test-"))
        self.addCleanup(shutil.rmtree, self.work)

    def run_tool(self, *args):
        return subprocess.run(
            [sys.executable, str(SCRIPT), *map(str, args)],
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def run_ok(self, *args):
        result = self.run_tool(*args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result


class OptionTest(StandInTest):
    def test_space_and_equals_forms_agree(self):
        self.run_ok(
            "--input", DL0, "--output", "a.jsonl", "--config", CONFIG,
            "--DataWriter.write_dl1_images", "True",
            "--ProcessorTool.monitoring_source_list", "HDF5MonitoringSource",
            "--HDF5MonitoringSource.input_files", CALIBRATION,
        )  # fmt: skip
        self.run_ok(
            f"--input={DL0}", "--output=b.jsonl", f"--config={CONFIG}",
            "--DataWriter.write_dl1_images=True",
            "--ProcessorTool.monitoring_source_list=HDF5MonitoringSource",
            f"--HDF5MonitoringSource.input_files={CALIBRATION}",
        )  # fmt: skip
        self.assertEqual(read_records(self.work / "a.jsonl"), read_records(self.work / "b.jsonl"))

    def test_invalid_options_exit_2(self):
        cases = {
            "unknown option": ["--input", DL0, "--output", "x", "--bogus", "1"],
            "invalid boolean": ["--input", DL0, "--output", "x", "--DataWriter.write_dl2=maybe"],
            "dl2 requested": ["--input", DL0, "--output", "x", "--DataWriter.write_dl2=True"],
            "missing input": ["--input", "absent.dl0", "--output", "x"],
            "url input": ["--input", "https://example.org/run.dl0", "--output", "x"],
            "missing output": ["--input", DL0],
            "unknown monitoring source": [
                "--input", DL0, "--output", "x",
                "--ProcessorTool.monitoring_source_list=OtherSource",
            ],
            "monitoring source without file": [
                "--input", DL0, "--output", "x",
                "--ProcessorTool.monitoring_source_list=HDF5MonitoringSource",
            ],
        }  # fmt: skip
        for name, args in cases.items():
            with self.subTest(name):
                result = self.run_tool(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("ctapipe-process: error:", result.stderr)
                self.assertFalse((self.work / "x").exists())

    def test_calibration_file_ignored_without_source(self):
        result = self.run_ok(
            "--input", DL0, "--output", "x.jsonl", "--HDF5MonitoringSource.input_files", CALIBRATION
        )  # fmt: skip
        self.assertIn("ignoring --HDF5MonitoringSource.input_files", result.stderr)
        self.assertEqual(read_records(self.work / "x.jsonl")[0]["calibration"], "nominal")


class OutputTest(StandInTest):
    def test_dl1_records_with_images(self):
        self.run_ok("--input", DL0, "--output", "dl1.jsonl", "--DataWriter.write_dl1_images=True")
        records = read_records(self.work / "dl1.jsonl")
        events = [r for r in records if r["record"] == "event"]
        self.assertEqual(records[0]["record"], "run")
        self.assertEqual(records[-1]["record"], "summary")
        self.assertEqual(len(events), 12)
        self.assertEqual([e["event_id"] for e in events], list(range(1, 13)))
        self.assertEqual(len(events[0]["image"]), 91)
        self.assertEqual(len(events[0]["peak_time_ns"]), 91)
        valid = [e for e in events if e["parameters"] is not None]
        self.assertEqual(records[-1]["n_events_with_parameters"], len(valid))
        self.assertGreaterEqual(len(valid), 10)

    def test_images_and_parameters_switches(self):
        self.run_ok(
            "--input", DL0, "--output", "dl1.jsonl",
            "--DataWriter.write_dl1_images", "False", "--DataWriter.write_dl1_parameters", "false",
        )  # fmt: skip
        event = read_records(self.work / "dl1.jsonl")[1]
        self.assertNotIn("image", event)
        self.assertNotIn("parameters", event)
        self.assertAlmostEqual(event["true_energy_tev"], 0.2152, places=3)

    def test_calibration_changes_charges(self):
        self.run_ok("--input", DL0, "--output", "nominal.jsonl", "--DataWriter.write_dl1_images=1")
        self.run_ok(
            "--input", DL0, "--output", "calibrated.jsonl", "--DataWriter.write_dl1_images=1",
            "--ProcessorTool.monitoring_source_list=HDF5MonitoringSource",
            "--HDF5MonitoringSource.input_files", CALIBRATION,
        )  # fmt: skip
        nominal = read_records(self.work / "nominal.jsonl")
        calibrated = read_records(self.work / "calibrated.jsonl")
        self.assertTrue(calibrated[0]["calibration"].startswith("HDF5MonitoringSource:"))
        self.assertNotEqual(nominal[1]["image"], calibrated[1]["image"])

    def test_hillas_of_line_image(self):
        write_line_image_run(self.work / "line.dl0")
        self.run_ok("--input", "line.dl0", "--output", "line.jsonl")
        parameters = read_records(self.work / "line.jsonl")[1]["parameters"]
        hillas = parameters["hillas"]
        self.assertAlmostEqual(hillas["intensity"], 150.0, places=3)
        self.assertAlmostEqual(hillas["x_m"], 0.0, places=4)
        self.assertAlmostEqual(hillas["y_m"], 0.0, places=4)
        self.assertAlmostEqual(hillas["width_m"], 0.0, places=4)
        self.assertAlmostEqual(hillas["length_m"], 0.1 * math.sqrt(2.0 / 3.0), places=4)
        self.assertAlmostEqual(abs(hillas["psi_deg"]) % 180.0, 0.0, places=2)
        self.assertEqual(parameters["morphology"]["n_pixels"], 3)
        self.assertAlmostEqual(parameters["leakage"]["intensity_width_1"], 2.0 / 3.0, places=4)

    def test_config_thresholds_shrink_images(self):
        strict = self.work / "strict.json"
        strict.write_text(json.dumps({"TailcutsImageCleaner": {"picture_threshold_pe": 30}}))
        self.run_ok("--input", DL0, "--output", "loose.jsonl", "--config", CONFIG)
        self.run_ok(
            "--input", DL0, "--output", "strict.jsonl", "--config", CONFIG, "--config", strict
        )
        loose = read_records(self.work / "loose.jsonl")
        tight = read_records(self.work / "strict.jsonl")
        self.assertEqual(tight[0]["config"]["TailcutsImageCleaner"]["picture_threshold_pe"], 30.0)
        self.assertLess(
            tight[-1]["n_events_with_parameters"], loose[-1]["n_events_with_parameters"]
        )


class FailureTest(StandInTest):
    def test_existing_output_needs_overwrite(self):
        (self.work / "dl1.jsonl").write_text("old\n")
        result = self.run_tool("--input", DL0, "--output", "dl1.jsonl")
        self.assertEqual(result.returncode, 1)
        self.assertIn("--overwrite", result.stderr)
        self.assertEqual((self.work / "dl1.jsonl").read_text(), "old\n")
        self.run_ok("--input", DL0, "--output", "dl1.jsonl", "--overwrite")
        self.assertEqual(read_records(self.work / "dl1.jsonl")[0]["record"], "run")

    def test_truncated_input_fails_cleanly(self):
        truncated = self.work / "truncated.dl0"
        truncated.write_bytes(DL0.read_bytes()[:-100])
        result = self.run_tool(
            "--input", truncated, "--output", "dl1.jsonl", "--provenance-log", "p.json"
        )
        self.assertEqual(result.returncode, 1)
        self.assertIn("truncated", result.stderr)
        self.assertFalse((self.work / "dl1.jsonl").exists())
        provenance = json.loads((self.work / "p.json").read_text())[0]
        self.assertEqual(provenance["status"], "error")

    def test_missing_header_field_fails(self):
        data = DL0.read_bytes()
        (length,) = struct.unpack_from("<I", data, 8)
        header = json.loads(data[12 : 12 + length])
        del header["obs_id"]
        header_bytes = json.dumps(header).encode()
        broken = self.work / "broken.dl0"
        broken.write_bytes(
            data[:8] + struct.pack("<I", len(header_bytes)) + header_bytes + data[12 + length :]
        )
        result = self.run_tool("--input", broken, "--output", "dl1.jsonl")
        self.assertEqual(result.returncode, 1)
        self.assertIn("header fields missing: obs_id", result.stderr)
        self.assertFalse((self.work / "dl1.jsonl").exists())

    def test_invalid_config_fails(self):
        cases = {
            "unknown key": {"TailcutsImageCleaner": {"picture_threshold": 5}},
            "text value": {"LocalPeakWindowSum": {"window_width": "seven"}},
            "fractional integer": {"LocalPeakWindowSum": {"window_width": 6.5}},
        }
        for name, content in cases.items():
            with self.subTest(name):
                config = self.work / f"{name}.json"
                config.write_text(json.dumps(content))
                result = self.run_tool("--input", DL0, "--output", "x.jsonl", "--config", config)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("configuration", result.stderr)
                self.assertFalse((self.work / "x.jsonl").exists())

    def test_calibration_for_other_telescope_fails(self):
        wrong = self.work / "wrong.json"
        calibration = json.loads(CALIBRATION.read_text())
        calibration["tel_id"] = 2
        wrong.write_text(json.dumps(calibration))
        result = self.run_tool(
            "--input", DL0, "--output", "x.jsonl",
            "--ProcessorTool.monitoring_source_list=HDF5MonitoringSource",
            "--HDF5MonitoringSource.input_files", wrong,
        )  # fmt: skip
        self.assertEqual(result.returncode, 1)
        self.assertIn("telescope 2", result.stderr)

    def test_calibration_zero_gain_fails(self):
        wrong = self.work / "zero-gain.json"
        calibration = json.loads(CALIBRATION.read_text())
        calibration["adc_per_pe"][5] = 0
        wrong.write_text(json.dumps(calibration))
        result = self.run_tool(
            "--input", DL0, "--output", "x.jsonl",
            "--ProcessorTool.monitoring_source_list=HDF5MonitoringSource",
            "--HDF5MonitoringSource.input_files", wrong,
        )  # fmt: skip
        self.assertEqual(result.returncode, 1)
        self.assertIn("adc_per_pe must be positive", result.stderr)


class ProvenanceTest(StandInTest):
    def test_provenance_log_contents(self):
        self.run_ok(
            "--input", DL0, "--output", "dl1.jsonl", "--config", CONFIG,
            "--provenance-log", "run.provenance.log",
        )  # fmt: skip
        log = json.loads((self.work / "run.provenance.log").read_text())
        self.assertEqual(len(log), 1)
        activity = log[0]
        self.assertEqual(activity["status"], "completed")
        self.assertEqual(activity["argv"][1:3], ["--input", str(DL0)])
        self.assertLessEqual(activity["start"]["time_utc"], activity["stop"]["time_utc"])
        self.assertTrue(activity["start"]["time_utc"].endswith("+00:00"))
        inputs = {entry["role"]: entry for entry in activity["input"]}
        self.assertEqual(inputs["DL0 events"]["sha256"], sha256(DL0))
        self.assertEqual(inputs["configuration"]["sha256"], sha256(CONFIG))
        output = activity["output"][0]
        self.assertEqual(output["sha256"], sha256(self.work / "dl1.jsonl"))
        self.assertEqual(output["url"], str((self.work / "dl1.jsonl").resolve()))

    def test_default_provenance_log_name(self):
        self.run_ok("--input", DL0, "--output", "dl1.jsonl")
        self.assertTrue((self.work / "ctapipe-process.provenance.log").is_file())


if __name__ == "__main__":
    unittest.main()
