// Outline the plate region on a snapshot, scaled to the size the image is shown at.
function speedcamPlateBox(image) {
  const box = (image.dataset.plateBox || "").split(",").map(Number);
  const outline = image.closest(".plate-evidence").querySelector(".plate-box");
  if (box.length !== 4 || box.some(Number.isNaN) || !image.naturalWidth) return;
  const scale = image.clientWidth / image.naturalWidth;
  outline.style.left = `${box[0] * scale}px`;
  outline.style.top = `${box[1] * scale}px`;
  outline.style.width = `${box[2] * scale}px`;
  outline.style.height = `${box[3] * scale}px`;
  outline.hidden = false;
}
