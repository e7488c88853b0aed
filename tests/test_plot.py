"""The course's figure style."""

import numpy as np


def test_figures_in_the_course_style_are_opaque(tmp_path):
    import matplotlib.image
    import matplotlib.pyplot as plt

    from crossmodal import plot

    with plt.rc_context({"figure.facecolor": "none", "savefig.transparent": True}):
        plot.use_style()
        images = np.random.default_rng(0).random((3, 8, 8, 3))
        fig = plot.image_grid(images, ["a", "b", "c"], ncols=3)
        fig.savefig(tmp_path / "grid.png")
        plt.close(fig)
    pixels = matplotlib.image.imread(tmp_path / "grid.png")
    assert pixels.shape[-1] == 4 and pixels[..., 3].min() == 1.0
