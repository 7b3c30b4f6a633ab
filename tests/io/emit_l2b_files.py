"""Small files in the published layouts of NASA's EMIT L2B CH4ENH product (see plumetrace.io.emit_l2b).

The COG follows JPL emit-ghg's ``convert_to_cog`` (single float32 band described ``EMIT_L2B_CH4ENH``, band tag
``UNITS = ppm m``, nodata -9999, EPSG:4326, the granule's dataset tags); the NetCDF follows the EMIT L1B/L2A NetCDF-4
convention (swath variable with ``_FillValue = -9999``, ``location`` group with the 1-based GLT, root
``geotransform``/``spatial_ref``/``time_coverage_start``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

GRANULE = "EMIT_L2B_CH4ENH_002_20230805T195459_2321713_002"
TIME = "2023-08-05T19:54:59Z"
FILL = -9999.0


def geographic_grid(shape: tuple[int, int], pixel_m: float = 60.0, lat0: float = 32.0, lon0: float = -103.0):
    """Affine (rasterio order) of a north-up EPSG:4326 grid with ~``pixel_m`` pixels at ``lat0``."""
    from plumetrace.georef import metres_per_degree

    east_m, north_m = metres_per_degree(lat0)
    return (pixel_m / east_m, 0.0, lon0, 0.0, -pixel_m / north_m, lat0 + shape[0] * pixel_m / north_m / 2)


def write_emit_cog(folder: Path, values: np.ndarray, transform, *, product: str = "CH4ENH", units="ppm m") -> Path:
    """One EMIT L2B COG of ``product`` (CH4ENH, CH4UNCERT) named as the LP DAAC names it; NaN written as -9999."""
    import rasterio
    from rasterio.transform import Affine

    path = folder / f"{GRANULE.replace('CH4ENH', product)}.tif"
    data = np.where(np.isfinite(values), values, FILL).astype(np.float32)
    description = {"CH4ENH": "Methane Enhancement Values", "CH4UNCERT": "Methane Enhancement Uncertainty Values"}
    with rasterio.open(
        path,
        "w",
        driver="COG",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(*transform),
        nodata=FILL,
    ) as dst:
        dst.write(data[None])
        dst.set_band_description(1, f"EMIT_L2B_{product}")
        if units:
            dst.update_tags(1, UNITS=units)
        dst.update_tags(
            sensor="EMIT (Earth Surface Mineral Dust Source Investigation)",
            instrument="EMIT",
            platform="ISS",
            Conventions="CF-1.63",
            naming_authority="LPDAAC",
            product_version="002",
            software_build_version="010621",
            description=description.get(product, product),
        )
    return path


def write_emit_netcdf(
    path: Path,
    values: np.ndarray,
    transform,
    *,
    uncertainty: np.ndarray | None = None,
    units: str | None = "ppm m",
    flip_rows: bool = True,
    glt: bool = True,
) -> Path:
    """The map ``values`` (on the north-up grid ``transform``) as an EMIT L2B swath NetCDF whose GLT maps it back.

    With ``flip_rows`` the swath is stored upside down (as an ascending orbit's is), so only the GLT puts it right.
    """
    import xarray as xr

    rows, cols = values.shape
    swath = values[::-1] if flip_rows else values
    attrs = {"units": units} if units else {}
    data = {"ch4_enhancement": (("downtrack", "crosstrack"), swath.astype(np.float32), attrs)}
    if uncertainty is not None:
        sigma = uncertainty[::-1] if flip_rows else uncertainty
        data["ch4_uncertainty"] = (("downtrack", "crosstrack"), sigma.astype(np.float32), {"units": "ppm m"})
    a, b, c, d, e, f = transform
    root = xr.Dataset(
        data,
        attrs={
            "geotransform": np.array([c, a, b, f, d, e]),
            "spatial_ref": 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
            'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]',
            "time_coverage_start": "2023-08-05T19:54:59+0000",
            "title": "EMIT L2B Methane Enhancement Data 60 m",
        },
    )
    encoding = {name: {"_FillValue": np.float32(FILL)} for name in data}
    root.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    row, col = np.mgrid[0:rows, 0:cols]
    swath_row = rows - 1 - row if flip_rows else row
    lon = c + a * (col + 0.5)
    lat = f + e * (row + 0.5)  # of the map rows; the swath holds them flipped
    location = {"lat": (("downtrack", "crosstrack"), lat[::-1] if flip_rows else lat)}
    location["lon"] = (("downtrack", "crosstrack"), lon)
    if glt:
        location["glt_x"] = (("ortho_y", "ortho_x"), (col + 1).astype(np.int32))
        location["glt_y"] = (("ortho_y", "ortho_x"), (swath_row + 1).astype(np.int32))
    xr.Dataset(location).to_netcdf(path, engine="h5netcdf", group="location", mode="a")
    return path
