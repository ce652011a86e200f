"""QR codes as inline SVG (no image files): slips, public boards and check-in codes."""
from __future__ import annotations


def qr_svg(payload: str, *, scale: int = 4, border: int = 2) -> str:
    """An SVG `<svg>` element drawing `payload` as a QR code (error correction M), `scale` px per module."""
    import qrcode

    qr = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    cells = "".join(f'<rect x="{c}" y="{r}" width="1" height="1"/>'
                    for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark)
    n = len(matrix)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{n * scale}" height="{n * scale}" '
            f'role="img" aria-label="QR"><rect width="{n}" height="{n}" fill="#fff"/><g fill="#000">{cells}</g></svg>')
