"""The `screenshot` step: the cartridge as a person sees it, for the build report.

Runs the ROM in cynes: draws a 7 with the controller (the neat 7 with a bar of the pad-drawn set,
nes/tools/pad_digits.py) and waits for the answer (on a ROM built without the canvas, classifies
test image 0 through the RAM interface instead), then saves the screen at twice its size and a
caption saying what it shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.fsutil import atomic_path, write_json

SCREENSHOT_DIGIT = "7 neat, bar"  # of nes/tools/pad_digits.py: the 7 of docs/screenshot.png


def screenshot(rom: Path, digit_input: np.ndarray, target: Path) -> str:
    """Save the screen after one classification as `target` (PNG); return the caption."""
    from PIL import Image

    from nes.tools.pad_digits import by_name
    from nes.tools.ui_driver import Ui

    ui = Ui(rom)
    try:
        ui.sym("canvas")
    except KeyError:
        digit = ui.console.infer(digit_input).digit
        frame = ui.step(0, 2)
        caption = f"The cartridge (built without the canvas) after classifying test image 0: {digit}."
    else:
        ui.draw(by_name(SCREENSHOT_DIGIT).strokes)
        frames = ui.wait_answer()
        frame = ui.frame
        caption = f"A 7 drawn with the D-pad and A; {frames} frames after the last stroke the console shows its answer."
    with atomic_path(target) as tmp:
        image = Image.fromarray(frame)
        image.resize((frame.shape[1] * 2, frame.shape[0] * 2), Image.NEAREST).save(tmp, "PNG")
    return caption


def run(rom: Path, inputs: Path, target: Path, caption_target: Path) -> None:
    """Write the screenshot `target` and `caption_target` ({"caption": ...})."""
    with np.load(inputs) as data:
        first_test_input = data["x_test"][0]
    caption = screenshot(rom, first_test_input, target)
    write_json(caption_target, {"caption": caption})
    print(f"screenshot: {target}")
