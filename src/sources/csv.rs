pub fn export_csv(
    _c: &[crate::contacts::Contact],
    _w: &mut impl std::io::Write,
) -> std::io::Result<()> {
    Ok(())
}
