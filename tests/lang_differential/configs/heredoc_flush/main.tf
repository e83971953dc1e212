# How HCL 2.10 strips `<<-` heredocs: per line-leading literal token, after strip
# markers, with blank lines and directive-led lines as special cases.
locals {
  items = ["a", "b"]
}

output "strip_marker_plain_heredoc" {
  value = <<EOT
%{ for x in local.items ~}

  ${x}
%{ endfor ~}
end
EOT
}

output "blank_lines_keep_spaces" {
  value = <<-EOT
      one

        two
      
      three
    EOT
}

output "interp_at_line_start" {
  value = <<-EOT
    ${local.items[0]} first
      second
    EOT
}

output "directive_without_strip" {
  value = <<-EOT
    %{ for x in local.items }
    - ${x}
    %{ endfor }
    EOT
}

output "directive_strip_both" {
  value = <<-EOT
      %{~ for x in local.items ~}
      [${x}]
      %{~ endfor ~}
    tail
    EOT
}

output "escapes" {
  value = <<-EOT
      $${not} %%{ nor }
        ${"yes"}
    EOT
}

output "tabs" {
  value = "<<-EOT\n\t\tx\n\ty\n\tEOT"
}

output "tab_heredoc" {
  value = <<-EOT
		a
	b
	EOT
}
