"""The progress bar over videos and frames, on stderr.

On a terminal one line is redrawn in place (videos finished, failed, frames so far and the frame
total when it is known, frames per second, elapsed time) and each finished video is logged above
it; otherwise only the per-video lines are printed.
"""
import sys


def clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressBar:
    WIDTH = 30

    def __init__(self, videos, frames_total=None, enabled=True, stream=None):
        self.videos = videos
        self.frames_total = frames_total  # None when some video's length is not known in advance
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.drawn = False

    def line(self, finished, failed, running, frames, elapsed):
        """`running`: (fraction, frames) of the videos in progress."""
        fraction = (finished + failed + sum(f for f, _ in running)) / max(self.videos, 1)
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * self.WIDTH)
        frames_text = f"{frames}/{self.frames_total}" if self.frames_total else f"{frames}"
        fps = frames / elapsed if elapsed > 0 else 0.0
        failed_text = f"  {failed} failed" if failed else ""
        return (f"[{'#' * filled}{' ' * (self.WIDTH - filled)}] {finished + failed}/{self.videos} "
                f"videos{failed_text}  {frames_text} frames  {fps:.1f} fps  {clock(elapsed)}")

    def draw(self, finished, failed, running, frames, elapsed):
        if not (self.enabled and self.tty):
            return
        self.stream.write("\r" + self.line(finished, failed, running, frames, elapsed) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def log(self, text):
        """A line above the bar (or alone, off a terminal)."""
        if not self.enabled:
            return
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
